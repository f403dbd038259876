output "namespace" {
  description = "Namespace ctxlab runs in (GPU jobs are created here too)."
  value       = local.namespace
}

output "release_name" {
  description = "Name of the Helm release."
  value       = helm_release.ctxlab.name
}

output "worker_service_account" {
  description = "Service account of the worker pods (IRSA-annotated; must match a storage module service_accounts entry)."
  value       = var.worker_service_account
}

output "jobs_service_account" {
  description = "Service account for GPU job pods (IRSA-annotated; must match a storage module service_accounts entry)."
  value       = var.jobs_service_account
}

output "portal_service" {
  description = "In-cluster address of the portal Service (http://<name>.<namespace>.svc)."
  value       = "http://${var.release_name}-portal.${local.namespace}.svc"
}
