# NVIDIA GPU operator: device plugin (nvidia.com/gpu resources), GPU feature discovery labels,
# DCGM metrics and the MIG manager on every GPU node. The nodes' taint is
# nvidia.com/gpu=present:NoSchedule, so every daemonset must tolerate it.

locals {
  gpu_toleration = {
    key      = "nvidia.com/gpu"
    operator = "Exists"
    effect   = "NoSchedule"
  }

  values = {
    operator = {
      nodeSelector = var.operator_node_selector
    }

    driver  = { enabled = var.driver_enabled }
    toolkit = { enabled = var.toolkit_enabled }
    mig     = { strategy = var.mig_strategy }

    dcgmExporter = {
      enabled        = var.dcgm_exporter_enabled
      serviceMonitor = { enabled = var.service_monitor_enabled }
    }

    daemonsets = {
      tolerations = [local.gpu_toleration]
    }

    node-feature-discovery = {
      worker = {
        tolerations = [local.gpu_toleration]
      }
    }
  }
}

resource "helm_release" "gpu_operator" {
  name             = "gpu-operator"
  namespace        = var.namespace
  create_namespace = true
  repository       = "https://helm.ngc.nvidia.com/nvidia"
  chart            = "gpu-operator"
  version          = var.chart_version

  # The operator's CRDs and validator can take minutes on a cold cluster.
  wait    = true
  timeout = 900

  values = [yamlencode(local.values)]
}
