variable "bucket_name" {
  description = "Globally unique name of the artifacts bucket (checkpoints, LoRA adapters, eval results)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be a valid S3 bucket name (3-63 lower-case letters, digits, dots, dashes)."
  }
}

variable "force_destroy" {
  description = "Allow `terraform destroy` to delete the bucket with its objects (dev only: checkpoints cost GPU-days to recreate)."
  type        = bool
  default     = false
}

variable "noncurrent_version_expiration_days" {
  description = "Days an overwritten or deleted object version is kept before it expires (versioning protects against a bad job overwriting a checkpoint)."
  type        = number
  default     = 30
}

variable "kms_encryption" {
  description = "Encrypt with a customer-managed KMS key created here (true) or with S3-managed keys, SSE-S3 (false)."
  type        = bool
  default     = true
}

variable "oidc_provider_arn" {
  description = "ARN of the cluster's IAM OIDC provider (cluster module output)."
  type        = string
}

variable "oidc_provider" {
  description = "The cluster's OIDC issuer without https:// (cluster module output)."
  type        = string
}

variable "service_accounts" {
  description = "Kubernetes service accounts allowed to assume the workload role: the worker, and the GPU job pods it launches."
  type = list(object({
    namespace = string
    name      = string
  }))

  validation {
    condition     = length(var.service_accounts) >= 1
    error_message = "At least one service account (the worker's) must be bound to the role."
  }
}

variable "allow_delete" {
  description = "Let workloads delete objects (garbage collection of superseded checkpoints); deleted versions stay recoverable for noncurrent_version_expiration_days."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
