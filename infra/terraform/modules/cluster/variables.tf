variable "name" {
  description = "Cluster name; also the prefix of the VPC, node groups and IAM roles. Lower case, at most 32 characters."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,31}$", var.name))
    error_message = "name must be 2-32 characters of lower-case letters, digits and dashes, starting with a letter."
  }
}

variable "kubernetes_version" {
  description = "EKS Kubernetes minor version (\"1.33\"). Upgrade one minor at a time."
  type        = string
  default     = "1.33"
}

variable "availability_zones" {
  description = "Availability zones to spread the VPC over (2 or 3). GPU pools can be narrowed to a subset where their instance type is offered."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) >= 2 && length(var.availability_zones) <= 4
    error_message = "EKS needs subnets in at least 2 availability zones; this module supports 2 to 4."
  }
}

variable "vpc_cidr" {
  description = "CIDR of the VPC (a /16 is expected: each private subnet is a /20, since the VPC CNI gives every pod a VPC address)."
  type        = string
  default     = "10.40.0.0/16"
}

variable "single_nat_gateway" {
  description = "One NAT gateway for the whole VPC (cheaper, one AZ's outage cuts egress) instead of one per AZ."
  type        = bool
  default     = true
}

variable "endpoint_public_access" {
  description = "Whether the Kubernetes API endpoint is reachable from the internet (restricted by endpoint_public_access_cidrs)."
  type        = bool
  default     = true
}

variable "endpoint_public_access_cidrs" {
  description = "CIDRs allowed to reach the public Kubernetes API endpoint."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "admin_principal_arns" {
  description = "IAM role/user ARNs granted cluster-admin through EKS access entries, besides the identity that creates the cluster."
  type        = list(string)
  default     = []
}

variable "system_node_group" {
  description = "The always-on node group for the portal, workers and cluster add-ons (no GPUs, no taint)."
  type = object({
    instance_types = list(string)
    min_size       = number
    max_size       = number
    desired_size   = number
    capacity_type  = optional(string, "ON_DEMAND")
    disk_size_gib  = optional(number, 50)
  })

  validation {
    condition     = var.system_node_group.min_size >= 1 && var.system_node_group.min_size <= var.system_node_group.desired_size && var.system_node_group.desired_size <= var.system_node_group.max_size
    error_message = "system_node_group needs 1 <= min_size <= desired_size <= max_size."
  }
}

variable "gpu_node_groups" {
  description = <<-EOT
    GPU node groups, keyed by a short pool name ("h100"). Each is tainted nvidia.com/gpu=present:NoSchedule,
    labelled ctxlab.dev/gpu-type=<gpu_type> and ctxlab.dev/pool=<key>, and tagged for the cluster autoscaler so it
    can scale from zero. desired_size/max_size usually come from the capacity module.
  EOT
  type = map(object({
    instance_types     = list(string)
    gpu_type           = string
    gpus_per_node      = number
    min_size           = number
    max_size           = number
    desired_size       = number
    capacity_type      = optional(string, "ON_DEMAND")
    disk_size_gib      = optional(number, 200)
    availability_zones = optional(list(string))
    ami_type           = optional(string, "AL2023_x86_64_NVIDIA")
  }))
  default = {}

  validation {
    condition     = alltrue([for k, p in var.gpu_node_groups : can(regex("^[a-z][a-z0-9-]{0,15}$", k))])
    error_message = "gpu_node_groups keys must be 1-16 characters of lower-case letters, digits and dashes (the node group's IAM role name prefix, \"gpu-<key>-eks-node-group-\", must stay within 38 characters)."
  }

  validation {
    condition     = alltrue([for p in values(var.gpu_node_groups) : p.min_size >= 0 && p.min_size <= p.desired_size && p.desired_size <= p.max_size && p.max_size >= 1])
    error_message = "Each GPU node group needs 0 <= min_size <= desired_size <= max_size and max_size >= 1."
  }

  validation {
    condition     = alltrue([for p in values(var.gpu_node_groups) : can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", p.gpu_type))])
    error_message = "gpu_type must be a valid Kubernetes label value in lower case (\"h100-sxm-80gb\")."
  }

  validation {
    condition     = alltrue([for p in values(var.gpu_node_groups) : p.gpus_per_node >= 1 && floor(p.gpus_per_node) == p.gpus_per_node])
    error_message = "gpus_per_node must be a positive whole number."
  }

  validation {
    condition     = alltrue([for p in values(var.gpu_node_groups) : contains(["ON_DEMAND", "SPOT"], p.capacity_type)])
    error_message = "capacity_type must be ON_DEMAND or SPOT."
  }
}

variable "tags" {
  description = "Tags added to every AWS resource this module creates."
  type        = map(string)
  default     = {}
}
