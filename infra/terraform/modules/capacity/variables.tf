variable "use_capacity_api" {
  description = "Size GPU pools from ctxlab's infra.capacity query (true), or use each pool's desired_size/max_size as given (false: first apply, before ctxlab runs, or when the API is down)."
  type        = bool
}

variable "ctxlab_url" {
  description = "Base URL of the ctxlab portal (\"https://ctxlab.example.com\"); the query is GET <url>/api/trpc/infra.capacity. Ignored when use_capacity_api is false."
  type        = string
  default     = ""

  validation {
    condition     = var.ctxlab_url == "" || can(regex("^https?://[^/]+", var.ctxlab_url))
    error_message = "ctxlab_url must be an http(s) URL, or empty when use_capacity_api is false."
  }
}

variable "api_token" {
  description = "Bearer token for the infra.capacity query. Ignored when use_capacity_api is false."
  type        = string
  default     = ""
  sensitive   = true
}

variable "gpu_pools" {
  description = <<-EOT
    The GPU pools to size, keyed by pool name, as the cluster module's gpu_node_groups takes them.
    Only gpu_type, gpus_per_node, min_size, desired_size and max_size are read here; other attributes
    may be present. max_size is the hard cap (budget): the API can never size a pool above it.
  EOT
  type = map(object({
    gpu_type      = string
    gpus_per_node = number
    min_size      = number
    desired_size  = number
    max_size      = number
  }))

  validation {
    condition     = length(distinct([for p in values(var.gpu_pools) : p.gpu_type])) == length(var.gpu_pools)
    error_message = "Two pools share a gpu_type: the capacity API reports one need per GPU type, so each type must map to exactly one pool."
  }
}

variable "headroom_nodes" {
  description = "Nodes added above the API's nodesNeeded for a pool's max_size, so the autoscaler can absorb a job submitted between two applies (still capped by the pool's max_size)."
  type        = number
  default     = 1

  validation {
    condition     = var.headroom_nodes >= 0 && floor(var.headroom_nodes) == var.headroom_nodes
    error_message = "headroom_nodes must be a whole number >= 0."
  }
}

variable "request_timeout_ms" {
  description = "Timeout of one request to the capacity API."
  type        = number
  default     = 10000
}

variable "retry_attempts" {
  description = "Retries of the capacity request after a failure (connection error or 5xx)."
  type        = number
  default     = 2
}
