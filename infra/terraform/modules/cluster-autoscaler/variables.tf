variable "cluster_name" {
  description = "Name of the EKS cluster whose node groups the autoscaler manages (found through the k8s.io/cluster-autoscaler/<name> tag)."
  type        = string
}

variable "region" {
  description = "AWS region of the cluster."
  type        = string
}

variable "oidc_provider_arn" {
  description = "ARN of the cluster's IAM OIDC provider (cluster module output), trusted by the autoscaler's IRSA role."
  type        = string
}

variable "oidc_provider" {
  description = "The cluster's OIDC issuer without https:// (cluster module output), used in the trust-policy conditions."
  type        = string
}

variable "chart_version" {
  description = "Version of the cluster-autoscaler chart from https://kubernetes.github.io/autoscaler (pinned; bump deliberately)."
  type        = string
  default     = "9.53.0"
}

variable "image_tag" {
  description = "cluster-autoscaler image tag; null keeps the chart's default. The autoscaler's minor should match the cluster's Kubernetes minor (v1.33.x for 1.33)."
  type        = string
  default     = null
}

variable "namespace" {
  description = "Namespace the autoscaler runs in."
  type        = string
  default     = "kube-system"
}

variable "service_account_name" {
  description = "Name of the autoscaler's Kubernetes service account (bound to its IRSA role)."
  type        = string
  default     = "cluster-autoscaler"
}

variable "node_selector" {
  description = "Node selector for the autoscaler pod: it must run on the always-on system nodes, never on a GPU node it might remove."
  type        = map(string)
  default     = { "ctxlab.dev/pool" = "system" }
}

variable "scale_down_unneeded_time" {
  description = "How long a node must be unneeded before it is removed (GPU nodes are expensive: keep it short, but longer than the gap between two jobs)."
  type        = string
  default     = "10m"
}

variable "tags" {
  description = "Tags added to the IAM role and policy."
  type        = map(string)
  default     = {}
}
