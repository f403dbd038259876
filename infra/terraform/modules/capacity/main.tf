# Capacity-driven sizing. ctxlab knows what GPUs its serve endpoints, queued and running jobs
# need; it publishes that as the tRPC query infra.capacity. This module reads it and turns it
# into node-group sizes, one per pool (a pool serves exactly one GPU type). gpusNeeded counts the
# jobs still waiting in ctxlab's GPU scheduler too (sources.queuedGpus), so a pool grows with its
# queue, and the waiting jobs start as the nodes join:
#
#   nodes   = nodesNeeded, or ceil(gpusNeeded / pool.gpus_per_node) when the API assumed
#             another node shape than this pool's instance type has
#   desired = min(max_size, max(min_size, nodes))
#   max     = min(max_size, max(min_size, nodes + headroom_nodes, 1))
#
# The pool's max_size is the budget cap: the API never raises a pool above it. With
# use_capacity_api = false the pools keep their own desired_size/max_size.
#
# Wire format (tRPC v11 over HTTP GET with the superjson transformer):
#   {"result":{"data":{"json":{"generatedAt":"…","pools":[{"gpuType":…,"gpuMemoryGiB":…,
#    "gpusNeeded":…,"nodesNeeded":…,"gpusPerNode":…,"sources":{…}}]}}}}
# infra/tests/capacity-contract.ts holds the zod schema of this payload, and
# infra/tests/terraform.test.ts checks that every attribute read below exists in it.

locals {
  capacity_url = "${trimsuffix(var.ctxlab_url, "/")}/api/trpc/infra.capacity"
}

data "http" "capacity" {
  count = var.use_capacity_api ? 1 : 0

  url    = local.capacity_url
  method = "GET"

  request_headers = {
    Accept        = "application/json"
    Authorization = "Bearer ${var.api_token}"
  }

  request_timeout_ms = var.request_timeout_ms

  retry {
    attempts     = var.retry_attempts
    min_delay_ms = 1000
    max_delay_ms = 5000
  }

  lifecycle {
    postcondition {
      condition     = self.status_code == 200
      error_message = "GET ${local.capacity_url} answered HTTP ${self.status_code}; check ctxlab_url and the token, or plan with use_capacity_api = false."
    }
  }
}

locals {
  # A list over the (0 or 1) responses, so there is no conditional with two result types.
  api_pools = flatten([
    for response in data.http.capacity : jsondecode(response.response_body).result.data.json.pools
  ])

  generated_at = one([
    for response in data.http.capacity : jsondecode(response.response_body).result.data.json.generatedAt
  ])

  need_by_gpu_type = {
    for p in local.api_pools : p.gpuType => {
      gpus_needed   = p.gpusNeeded
      nodes_needed  = p.nodesNeeded
      gpus_per_node = p.gpusPerNode
      gpu_memory    = p.gpuMemoryGiB
    }
  }

  configured_gpu_types = toset([for pool in values(var.gpu_pools) : pool.gpu_type])

  # Nodes each pool needs, in this pool's own node shape.
  nodes_needed = {
    for name, pool in var.gpu_pools : name => (
      !contains(keys(local.need_by_gpu_type), pool.gpu_type) ? 0 :
      local.need_by_gpu_type[pool.gpu_type].gpus_per_node == pool.gpus_per_node ?
      local.need_by_gpu_type[pool.gpu_type].nodes_needed :
      ceil(local.need_by_gpu_type[pool.gpu_type].gpus_needed / pool.gpus_per_node)
    )
  }

  sizes = {
    for name, pool in var.gpu_pools : name => (
      var.use_capacity_api ? {
        min_size     = pool.min_size
        desired_size = min(pool.max_size, max(pool.min_size, local.nodes_needed[name]))
        max_size     = min(pool.max_size, max(pool.min_size, local.nodes_needed[name] + var.headroom_nodes, 1))
        } : {
        min_size     = pool.min_size
        desired_size = pool.desired_size
        max_size     = pool.max_size
      }
    )
  }

  # What the API asks for that no pool can provide, and pools the API would size above their cap.
  unserved_gpu_types = sort([for t in keys(local.need_by_gpu_type) : t if !contains(local.configured_gpu_types, t) && local.need_by_gpu_type[t].gpus_needed > 0])
  capped_pools       = sort([for name, pool in var.gpu_pools : name if local.nodes_needed[name] > pool.max_size])
}

check "capacity_fits_pools" {
  assert {
    condition     = length(local.unserved_gpu_types) == 0
    error_message = "ctxlab needs GPU types no pool provides: ${join(", ", local.unserved_gpu_types)}. Add a pool (see infra/README.md) or the work will stay pending."
  }

  assert {
    condition     = length(local.capped_pools) == 0
    error_message = "ctxlab needs more nodes than max_size allows in pools: ${join(", ", local.capped_pools)}. Raise max_size if the budget allows."
  }
}
