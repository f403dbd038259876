variable "namespace" {
  description = "Namespace for the portal, the workers and the GPU jobs they launch."
  type        = string
  default     = "ctxlab"
}

variable "create_namespace" {
  description = "Create the namespace here (false when it is managed elsewhere)."
  type        = bool
  default     = true
}

variable "release_name" {
  description = "Helm release name; prefixes the Deployments, Services and Secrets."
  type        = string
  default     = "ctxlab"
}

variable "chart_path" {
  description = "Path of the ctxlab chart; null means this repository's infra/chart/ctxlab."
  type        = string
  default     = null
}

variable "worker_service_account" {
  description = "Name of the worker's service account; must be one the storage module's IRSA role trusts."
  type        = string
  default     = "ctxlab-worker"
}

variable "jobs_service_account" {
  description = "Name of the service account GPU job pods run as; must be one the storage module's IRSA role trusts."
  type        = string
  default     = "ctxlab-jobs"
}

variable "portal_image" {
  description = "Container image of the portal (Next.js; serves the UI and /api/trpc)."
  type = object({
    repository = string
    tag        = string
  })
}

variable "worker_image" {
  description = "Container image of the worker (apps/worker: BullMQ consumers)."
  type = object({
    repository = string
    tag        = string
  })
}

variable "portal_replicas" {
  description = "Portal pods (2+ for a rolling update without downtime)."
  type        = number
  default     = 2
}

variable "worker_replicas" {
  description = "Worker pods. Each consumes every queue; jobs are idempotent, so more workers only add throughput."
  type        = number
  default     = 1
}

variable "portal_resources" {
  description = "Kubernetes resource requests/limits of a portal container."
  type = object({
    requests = map(string)
    limits   = map(string)
  })
  default = {
    requests = { cpu = "250m", memory = "512Mi" }
    limits   = { memory = "1Gi" }
  }
}

variable "worker_resources" {
  description = "Kubernetes resource requests/limits of a worker container (GPU work runs in separate job pods, not here)."
  type = object({
    requests = map(string)
    limits   = map(string)
  })
  default = {
    requests = { cpu = "250m", memory = "512Mi" }
    limits   = { memory = "1Gi" }
  }
}

variable "longest_job_step_seconds" {
  description = "The longest a single job step runs inside the worker process (e.g. a LoRA merge or an upload of a checkpoint). The worker's termination grace period is this plus shutdown_margin_seconds."
  type        = number
  default     = 3600

  validation {
    condition     = var.longest_job_step_seconds > 0
    error_message = "longest_job_step_seconds must be positive."
  }
}

variable "shutdown_margin_seconds" {
  description = "Extra seconds on top of longest_job_step_seconds for closing connections after the last step ends."
  type        = number
  default     = 120

  validation {
    condition     = var.shutdown_margin_seconds >= 0
    error_message = "shutdown_margin_seconds must be >= 0."
  }
}

variable "database_url" {
  description = "DATABASE_URL (data module output); stored in a Kubernetes Secret the pods read."
  type        = string
  sensitive   = true
}

variable "redis_url" {
  description = "REDIS_URL (data module output); stored in a Kubernetes Secret the pods read."
  type        = string
  sensitive   = true
}

variable "database_ca_bundle_pem" {
  description = "PEM bundle to trust for PostgreSQL's TLS certificate (data module output); mounted and set as NODE_EXTRA_CA_CERTS."
  type        = string
}

variable "workload_role_arn" {
  description = "IRSA role (storage module output) the worker and GPU job service accounts are annotated with."
  type        = string
}

variable "artifact_bucket" {
  description = "Name of the artifacts bucket (storage module output), passed to the pods as CTXLAB_ARTIFACT_BUCKET."
  type        = string
}

variable "aws_region" {
  description = "AWS region, passed to the pods as AWS_REGION (the S3 client needs it)."
  type        = string
}

variable "ingress" {
  description = "How the portal is exposed. class_name \"alb\" needs the AWS Load Balancer Controller in the cluster; annotations go on the Ingress as given."
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
  description = "BullMQ key prefix (QUEUE_PREFIX), to share one Redis between installs; empty for none."
  type        = string
  default     = ""
}

variable "extra_env" {
  description = "Extra plain (non-secret) environment variables for the portal and the worker."
  type        = map(string)
  default     = {}
}

variable "helm_timeout_seconds" {
  description = "How long Terraform waits for the release's pods to become ready."
  type        = number
  default     = 600
}

variable "extra_values_yaml" {
  description = "Extra Helm values (YAML) merged over the generated ones, for chart settings this module has no variable for (e.g. portal.service.type: LoadBalancer)."
  type        = string
  default     = ""
}
