output "namespace" {
  description = "Namespace the GPU operator runs in."
  value       = helm_release.gpu_operator.namespace
}

output "chart_version" {
  description = "The gpu-operator chart version deployed."
  value       = helm_release.gpu_operator.version
}
