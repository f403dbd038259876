output "nodes_by_gpu_type" {
  description = "GPU type → nodes the pool serving it needs now (0 for configured types the API does not mention). With use_capacity_api = false: each pool's desired_size."
  value = {
    for name, pool in var.gpu_pools : pool.gpu_type => (var.use_capacity_api ? local.nodes_needed[name] : pool.desired_size)
  }
}

output "pool_sizes" {
  description = "Pool name → { min_size, desired_size, max_size } to merge into the cluster module's gpu_node_groups."
  value       = local.sizes
}

output "api_pools" {
  description = "The pools exactly as the capacity API reported them (empty when use_capacity_api is false), for plan output and debugging."
  value       = local.api_pools
}

output "generated_at" {
  description = "The API's generatedAt timestamp of the capacity snapshot used, or null when use_capacity_api is false."
  value       = local.generated_at
}

output "unserved_gpu_types" {
  description = "GPU types the API needs that no configured pool provides."
  value       = local.unserved_gpu_types
}
