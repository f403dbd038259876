output "cluster_name" {
  description = "EKS cluster name (aws eks update-kubeconfig --name <this> --region <region>)."
  value       = module.cluster.cluster_name
}

output "cluster_endpoint" {
  description = "Kubernetes API endpoint."
  value       = module.cluster.cluster_endpoint
}

output "gpu_node_groups" {
  description = "GPU pools as created: node group, ASG names, GPU type and sizes."
  value       = module.cluster.gpu_node_groups
}

output "capacity_nodes_by_gpu_type" {
  description = "GPU type → nodes needed, from the capacity API (or the configured desired sizes)."
  value       = module.capacity.nodes_by_gpu_type
}

output "capacity_pool_sizes" {
  description = "Pool → min/desired/max sizes applied to the GPU node groups."
  value       = module.capacity.pool_sizes
}

output "capacity_generated_at" {
  description = "Timestamp of the capacity snapshot used (null without the API)."
  value       = module.capacity.generated_at
}

output "artifact_bucket" {
  description = "Artifacts bucket name."
  value       = module.storage.bucket_name
}

output "workload_role_arn" {
  description = "IRSA role of the worker and GPU job pods."
  value       = module.storage.workload_role_arn
}

output "postgres_address" {
  description = "PostgreSQL host (private)."
  value       = module.data.postgres_address
}

output "redis_address" {
  description = "Redis primary endpoint (private)."
  value       = module.data.redis_primary_address
}

output "ctxlab_namespace" {
  description = "Namespace of the portal, workers and GPU jobs."
  value       = module.ctxlab.namespace
}

output "portal_service" {
  description = "In-cluster URL of the portal."
  value       = module.ctxlab.portal_service
}
