variable "chart_version" {
  description = "Version of NVIDIA's gpu-operator chart from https://helm.ngc.nvidia.com/nvidia (pinned; bump deliberately after reading its release notes)."
  type        = string
  default     = "v25.10.1"
}

variable "namespace" {
  description = "Namespace for the operator and its daemonsets (created by the release)."
  type        = string
  default     = "gpu-operator"
}

variable "driver_enabled" {
  description = "Let the operator install the NVIDIA driver in a container. Keep false on the EKS AL2023 NVIDIA AMI (ami_type AL2023_x86_64_NVIDIA), which ships the driver."
  type        = bool
  default     = false
}

variable "toolkit_enabled" {
  description = "Let the operator install the NVIDIA container toolkit. Keep false on the EKS AL2023 NVIDIA AMI, which ships it and configures containerd."
  type        = bool
  default     = false
}

variable "mig_strategy" {
  description = "How MIG slices are advertised: \"single\" (nvidia.com/gpu) or \"mixed\" (nvidia.com/mig-<profile>)."
  type        = string
  default     = "single"

  validation {
    condition     = contains(["single", "mixed"], var.mig_strategy)
    error_message = "mig_strategy must be \"single\" or \"mixed\"."
  }
}

variable "dcgm_exporter_enabled" {
  description = "Run the DCGM exporter (per-GPU utilisation, memory, temperature metrics for Prometheus)."
  type        = bool
  default     = true
}

variable "service_monitor_enabled" {
  description = "Create a Prometheus Operator ServiceMonitor for the DCGM exporter (needs the ServiceMonitor CRD in the cluster)."
  type        = bool
  default     = false
}

variable "operator_node_selector" {
  description = "Node selector for the operator deployment (the always-on system nodes)."
  type        = map(string)
  default     = { "ctxlab.dev/pool" = "system" }
}
