# The Kubernetes cluster autoscaler: it grows a node group when pods are pending that fit its
# node template (for GPU groups at zero nodes, the template comes from the ASG tags the cluster
# module writes) and removes nodes that stayed unneeded.

data "aws_partition" "current" {}

data "aws_iam_policy_document" "assume" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [var.oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${var.oidc_provider}:sub"
      values   = ["system:serviceaccount:${var.namespace}:${var.service_account_name}"]
    }

    condition {
      test     = "StringEquals"
      variable = "${var.oidc_provider}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

# The policy the autoscaler's AWS documentation asks for: read everything it needs to build
# node templates, and change sizes only of groups tagged as owned by this cluster.
data "aws_iam_policy_document" "autoscaler" {
  statement {
    sid    = "Describe"
    effect = "Allow"
    actions = [
      "autoscaling:DescribeAutoScalingGroups",
      "autoscaling:DescribeAutoScalingInstances",
      "autoscaling:DescribeLaunchConfigurations",
      "autoscaling:DescribeScalingActivities",
      "autoscaling:DescribeTags",
      "ec2:DescribeImages",
      "ec2:DescribeInstanceTypes",
      "ec2:DescribeLaunchTemplateVersions",
      "ec2:GetInstanceTypesFromInstanceRequirements",
      "eks:DescribeNodegroup",
    ]
    resources = ["*"]
  }

  statement {
    sid    = "ScaleOwnedGroups"
    effect = "Allow"
    actions = [
      "autoscaling:SetDesiredCapacity",
      "autoscaling:TerminateInstanceInAutoScalingGroup",
    ]
    resources = ["arn:${data.aws_partition.current.partition}:autoscaling:${var.region}:*:autoScalingGroup:*"]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/k8s.io/cluster-autoscaler/${var.cluster_name}"
      values   = ["owned"]
    }
  }
}

resource "aws_iam_role" "autoscaler" {
  name_prefix        = "${substr(var.cluster_name, 0, 20)}-autoscaler-"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "autoscaler" {
  name   = "cluster-autoscaler"
  role   = aws_iam_role.autoscaler.id
  policy = data.aws_iam_policy_document.autoscaler.json
}

locals {
  values = {
    cloudProvider = "aws"
    awsRegion     = var.region
    autoDiscovery = { clusterName = var.cluster_name }
    nodeSelector  = var.node_selector

    rbac = {
      serviceAccount = {
        create      = true
        name        = var.service_account_name
        annotations = { "eks.amazonaws.com/role-arn" = aws_iam_role.autoscaler.arn }
      }
    }

    extraArgs = {
      # GPU pools of one type in several AZs are kept the same size.
      balance-similar-node-groups = true
      # Choose the group that leaves the fewest idle GPUs/CPUs after the pending pods land.
      expander                      = "least-waste"
      skip-nodes-with-system-pods   = false
      skip-nodes-with-local-storage = false
      scale-down-unneeded-time      = var.scale_down_unneeded_time
      scale-down-delay-after-add    = "10m"
    }
  }

  image_values = var.image_tag == null ? {} : { image = { tag = var.image_tag } }
}

resource "helm_release" "autoscaler" {
  name       = "cluster-autoscaler"
  namespace  = var.namespace
  repository = "https://kubernetes.github.io/autoscaler"
  chart      = "cluster-autoscaler"
  version    = var.chart_version

  values = [yamlencode(merge(local.values, local.image_values))]

  depends_on = [aws_iam_role_policy.autoscaler]
}
