# Defaults are the values both environments share. Where dev and prod differ, the default is the
# one that loses nothing when an environment leaves it out: prod's for what protects data and
# availability, dev's (the smallest) for sizes. Each env's tfvars sets every value that differs
# between the environments, so none of them relies on these defaults for it. What names an
# environment (environment, name, vpc_cidr) has no default.

# --- Where ---------------------------------------------------------------------------------------

variable "environment" {
  description = "Short name of the environment (dev, prod): the Environment tag of every AWS resource."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,15}$", var.environment))
    error_message = "environment must be 1-16 lower-case letters, digits and dashes, starting with a letter."
  }
}

variable "region" {
  description = "AWS region."
  type        = string
  default     = "us-east-1"
}

variable "availability_zones" {
  description = "Availability zones for the VPC (2-3). Pick zones that offer the GPU instance types you need."
  type        = list(string)
  default     = ["us-east-1a", "us-east-1b", "us-east-1c"]
}

variable "name" {
  description = "Name of this installation: the cluster, VPC, databases and roles are named after it."
  type        = string
}

variable "tags" {
  description = "Extra tags for every AWS resource (Project/Environment/ManagedBy are always added)."
  type        = map(string)
  default     = {}
}

# --- Cluster -------------------------------------------------------------------------------------

variable "kubernetes_version" {
  description = "EKS Kubernetes minor version."
  type        = string
  default     = "1.33"
}

variable "vpc_cidr" {
  description = "CIDR of the VPC (/16); give each environment its own."
  type        = string
}

variable "single_nat_gateway" {
  description = "One NAT gateway for the VPC (cheap) instead of one per AZ (resilient)."
  type        = bool
  default     = false
}

variable "api_allowed_cidrs" {
  description = "CIDRs allowed to reach the public Kubernetes API endpoint (your office/VPN, CI)."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "admin_principal_arns" {
  description = "IAM principals given cluster-admin besides the identity running Terraform."
  type        = list(string)
  default     = []
}

variable "system_node_group" {
  description = "The always-on node group for the portal, workers and add-ons."
  type = object({
    instance_types = list(string)
    min_size       = number
    max_size       = number
    desired_size   = number
    capacity_type  = optional(string, "ON_DEMAND")
    disk_size_gib  = optional(number, 50)
  })
  default = {
    instance_types = ["t3.large"]
    min_size       = 1
    max_size       = 3
    desired_size   = 2
  }
}

variable "gpu_pools" {
  description = <<-EOT
    GPU node pools keyed by a short name. gpu_type must be the id ctxlab's capacity API reports for that
    GPU (e.g. "h100-sxm-80gb"); it becomes the node label ctxlab.dev/gpu-type. min_size 0 lets a pool scale
    to zero. desired_size/max_size are used as given when use_capacity_api = false; otherwise max_size is the
    cap the capacity API can never exceed.
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
  }))
  default = {}
}

# --- Capacity API --------------------------------------------------------------------------------

variable "use_capacity_api" {
  description = "Size GPU pools from ctxlab's infra.capacity query. Keep false until ctxlab is deployed and reachable at ctxlab_url."
  type        = bool
  default     = false
}

variable "ctxlab_url" {
  description = "Base URL of this installation's portal, for the capacity query (e.g. https://ctxlab.example.com)."
  type        = string
  default     = ""
}

variable "capacity_api_token" {
  description = "Bearer token for infra.capacity. Pass it as TF_VAR_capacity_api_token, never in a committed file."
  type        = string
  default     = ""
  sensitive   = true
}

variable "capacity_headroom_nodes" {
  description = "Nodes above the API's need allowed in each pool's max_size (still capped by the pool's own max_size)."
  type        = number
  default     = 1
}

# --- GPU operator and autoscaler -------------------------------------------------------------------

variable "gpu_operator_chart_version" {
  description = "NVIDIA gpu-operator chart version."
  type        = string
  default     = "v25.10.1"
}

variable "cluster_autoscaler_chart_version" {
  description = "cluster-autoscaler chart version."
  type        = string
  default     = "9.53.0"
}

variable "cluster_autoscaler_image_tag" {
  description = "cluster-autoscaler image tag matching kubernetes_version's minor (null: the chart's default)."
  type        = string
  default     = null
}

# --- Data ----------------------------------------------------------------------------------------

variable "postgres_major_version" {
  description = "PostgreSQL major version (15 or 16)."
  type        = string
  default     = "16"
}

variable "postgres_instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.t4g.micro"
}

variable "postgres_allocated_storage_gib" {
  description = "Initial PostgreSQL storage in GiB."
  type        = number
  default     = 20
}

variable "postgres_multi_az" {
  description = "Synchronous standby in a second AZ."
  type        = bool
  default     = true
}

variable "postgres_backup_retention_days" {
  description = "Days of automated PostgreSQL backups."
  type        = number
  default     = 14
}

variable "deletion_protection" {
  description = "Protect the database from deletion (and snapshot it on delete)."
  type        = bool
  default     = true
}

variable "redis_node_type" {
  description = "ElastiCache node type."
  type        = string
  default     = "cache.t4g.micro"
}

variable "redis_replicas" {
  description = "Redis replicas besides the primary (>= 1 enables failover)."
  type        = number
  default     = 1
}

# --- Storage -------------------------------------------------------------------------------------

variable "artifact_bucket_name" {
  description = "Globally unique name of the artifacts bucket (checkpoints, adapters)."
  type        = string
}

variable "artifact_bucket_force_destroy" {
  description = "Let `terraform destroy` delete the bucket with its objects."
  type        = bool
  default     = false
}

variable "noncurrent_version_expiration_days" {
  description = "Days overwritten/deleted artifact versions are kept."
  type        = number
  default     = 30
}

# --- ctxlab --------------------------------------------------------------------------------------

variable "portal_image" {
  description = "Portal container image (repository and tag)."
  type = object({
    repository = string
    tag        = string
  })
}

variable "worker_image" {
  description = "Worker container image (repository and tag)."
  type = object({
    repository = string
    tag        = string
  })
}

variable "portal_replicas" {
  description = "Portal pods."
  type        = number
  default     = 2
}

variable "worker_replicas" {
  description = "Worker pods."
  type        = number
  default     = 2
}

variable "longest_job_step_seconds" {
  description = "Longest single job step inside the worker; the worker's termination grace period is derived from it."
  type        = number
  default     = 3600
}

variable "ingress" {
  description = "How the portal is exposed (see modules/ctxlab)."
  type = object({
    enabled         = bool
    class_name      = optional(string, "")
    host            = optional(string, "")
    annotations     = optional(map(string), {})
    tls_secret_name = optional(string, "")
  })
  default = { enabled = false }
}

variable "queue_prefix" {
  description = "BullMQ key prefix (QUEUE_PREFIX); empty for none."
  type        = string
  default     = ""
}

variable "extra_env" {
  description = "Extra plain environment variables for the portal and the worker."
  type        = map(string)
  default     = {}
}

variable "ctxlab_extra_values_yaml" {
  description = "Extra Helm values (YAML) for the ctxlab chart, for settings without a variable (e.g. portal.service.type: LoadBalancer)."
  type        = string
  default     = ""
}
