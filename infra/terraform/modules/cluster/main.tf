# The network and the EKS cluster: a VPC with private subnets (nodes, databases) and public
# subnets (NAT, load balancers), one always-on system node group, and GPU node groups that
# the cluster autoscaler can grow from zero.

locals {
  # /20 per private subnet: the VPC CNI gives every pod a VPC address, and a p5 node alone
  # can hold a hundred pods' worth of ENI addresses.
  private_subnets = [for i, az in var.availability_zones : cidrsubnet(var.vpc_cidr, 4, i)]
  public_subnets  = [for i, az in var.availability_zones : cidrsubnet(var.vpc_cidr, 8, 240 + i)]

  gpu_taint = {
    key    = "nvidia.com/gpu"
    value  = "present"
    effect = "NO_SCHEDULE"
  }

  # EKS managed node groups do not copy node-group labels and taints onto their Auto Scaling
  # group. With a group at zero nodes the cluster autoscaler has no node to look at, so it
  # builds a template node from these ASG tags; without them a pending pod that tolerates the
  # GPU taint and selects ctxlab.dev/gpu-type would never trigger a scale-up.
  autoscaler_node_template_tags = {
    for name, p in var.gpu_node_groups : name => {
      "k8s.io/cluster-autoscaler/enabled"                                   = "true"
      "k8s.io/cluster-autoscaler/${var.name}"                               = "owned"
      "k8s.io/cluster-autoscaler/node-template/label/ctxlab.dev/gpu-type"   = p.gpu_type
      "k8s.io/cluster-autoscaler/node-template/label/ctxlab.dev/pool"       = name
      "k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu"        = "present:NoSchedule"
      "k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu"    = tostring(p.gpus_per_node)
      "k8s.io/cluster-autoscaler/node-template/resources/ephemeral-storage" = "${p.disk_size_gib}Gi"
    }
  }

  # One entry per (pool, tag), so each tag is its own resource and a new tag never replaces others.
  autoscaler_asg_tags = merge([
    for name, tags in local.autoscaler_node_template_tags : {
      for key, value in tags : "${name}|${key}" => {
        pool  = name
        key   = key
        value = value
      }
    }
  ]...)

  system_node_groups = {
    system = {
      name           = "system"
      ami_type       = "AL2023_x86_64_STANDARD"
      instance_types = var.system_node_group.instance_types
      capacity_type  = var.system_node_group.capacity_type
      min_size       = var.system_node_group.min_size
      max_size       = var.system_node_group.max_size
      desired_size   = var.system_node_group.desired_size
      labels         = { "ctxlab.dev/pool" = "system" }

      block_device_mappings = {
        xvda = {
          device_name = "/dev/xvda"
          ebs = {
            volume_size           = var.system_node_group.disk_size_gib
            volume_type           = "gp3"
            encrypted             = true
            delete_on_termination = true
          }
        }
      }
    }
  }

  gpu_node_groups = {
    for name, p in var.gpu_node_groups : "gpu-${name}" => {
      name           = "gpu-${name}"
      ami_type       = p.ami_type
      instance_types = p.instance_types
      capacity_type  = p.capacity_type
      min_size       = p.min_size
      max_size       = p.max_size
      desired_size   = p.desired_size

      # p5/p4de capacity is often offered in only some AZs (or in a capacity reservation).
      subnet_ids = p.availability_zones == null ? module.vpc.private_subnets : [
        for s in module.vpc.private_subnet_objects : s.id if contains(p.availability_zones, s.availability_zone)
      ]

      labels = {
        "ctxlab.dev/gpu-type" = p.gpu_type
        "ctxlab.dev/pool"     = name
      }
      taints = { gpu = local.gpu_taint }
      tags   = local.autoscaler_node_template_tags[name]

      block_device_mappings = {
        xvda = {
          device_name = "/dev/xvda"
          ebs = {
            volume_size           = p.disk_size_gib
            volume_type           = "gp3"
            encrypted             = true
            delete_on_termination = true
          }
        }
      }
    }
  }

  admin_access_entries = {
    for i, arn in var.admin_principal_arns : "admin-${i}" => {
      principal_arn = arn
      policy_associations = {
        admin = {
          policy_arn   = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
          access_scope = { type = "cluster" }
        }
      }
    }
  }
}

module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "5.21.0"

  name = var.name
  cidr = var.vpc_cidr
  azs  = var.availability_zones

  private_subnets = local.private_subnets
  public_subnets  = local.public_subnets

  enable_nat_gateway     = true
  single_nat_gateway     = var.single_nat_gateway
  one_nat_gateway_per_az = !var.single_nat_gateway
  enable_dns_hostnames   = true
  enable_dns_support     = true

  # Where Kubernetes Services of type LoadBalancer and ALB ingresses may place load balancers.
  public_subnet_tags  = { "kubernetes.io/role/elb" = "1" }
  private_subnet_tags = { "kubernetes.io/role/internal-elb" = "1" }

  tags = var.tags
}

module "eks" {
  source  = "terraform-aws-modules/eks/aws"
  version = "20.37.2"

  cluster_name    = var.name
  cluster_version = var.kubernetes_version

  cluster_endpoint_public_access       = var.endpoint_public_access
  cluster_endpoint_public_access_cidrs = var.endpoint_public_access_cidrs

  enable_cluster_creator_admin_permissions = true
  access_entries                           = local.admin_access_entries

  vpc_id                   = module.vpc.vpc_id
  subnet_ids               = module.vpc.private_subnets
  control_plane_subnet_ids = module.vpc.private_subnets

  # IRSA: the workers' S3 role and the cluster autoscaler's role trust this OIDC provider.
  enable_irsa = true

  cluster_addons = {
    coredns    = { most_recent = true }
    kube-proxy = { most_recent = true }
    vpc-cni = {
      most_recent    = true
      before_compute = true
    }
  }

  eks_managed_node_group_defaults = {
    update_config = { max_unavailable_percentage = 33 }
  }

  eks_managed_node_groups = merge(local.system_node_groups, local.gpu_node_groups)

  tags = var.tags
}

resource "aws_autoscaling_group_tag" "gpu_node_template" {
  for_each = local.autoscaler_asg_tags

  autoscaling_group_name = module.eks.eks_managed_node_groups["gpu-${each.value.pool}"].node_group_autoscaling_group_names[0]

  tag {
    key                 = each.value.key
    value               = each.value.value
    propagate_at_launch = false
  }
}
