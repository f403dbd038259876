# The one root stack of every environment: it only wires ../modules together. What differs
# between environments is a value in ../envs/<env>.tfvars, and where an environment's state lives
# is in ../envs/<env>.backend.hcl:
#   terraform -chdir=infra/terraform/stack init -reconfigure -backend-config=../envs/<env>.backend.hcl
#   terraform -chdir=infra/terraform/stack plan -var-file=../envs/<env>.tfvars

locals {
  tags = merge(var.tags, {
    Project     = "ctxlab"
    Environment = var.environment
    ManagedBy   = "terraform"
  })

  namespace              = "ctxlab"
  worker_service_account = "ctxlab-worker"
  jobs_service_account   = "ctxlab-jobs"
}

module "capacity" {
  source = "../modules/capacity"

  use_capacity_api = var.use_capacity_api
  ctxlab_url       = var.ctxlab_url
  api_token        = var.capacity_api_token
  gpu_pools        = var.gpu_pools
  headroom_nodes   = var.capacity_headroom_nodes
}

module "cluster" {
  source = "../modules/cluster"

  name                         = var.name
  kubernetes_version           = var.kubernetes_version
  availability_zones           = var.availability_zones
  vpc_cidr                     = var.vpc_cidr
  single_nat_gateway           = var.single_nat_gateway
  endpoint_public_access       = true
  endpoint_public_access_cidrs = var.api_allowed_cidrs
  admin_principal_arns         = var.admin_principal_arns
  system_node_group            = var.system_node_group

  # Each pool as configured, with desired/max sizes from the capacity API (or as given).
  gpu_node_groups = {
    for name, pool in var.gpu_pools : name => merge(pool, module.capacity.pool_sizes[name])
  }

  tags = local.tags
}

module "cluster_autoscaler" {
  source = "../modules/cluster-autoscaler"

  cluster_name      = module.cluster.cluster_name
  region            = var.region
  oidc_provider_arn = module.cluster.oidc_provider_arn
  oidc_provider     = module.cluster.oidc_provider
  chart_version     = var.cluster_autoscaler_chart_version
  image_tag         = var.cluster_autoscaler_image_tag
  tags              = local.tags

  depends_on = [module.cluster]
}

module "gpu_operator" {
  source = "../modules/gpu-operator"

  chart_version = var.gpu_operator_chart_version

  depends_on = [module.cluster]
}

module "data" {
  source = "../modules/data"

  name                           = var.name
  vpc_id                         = module.cluster.vpc_id
  subnet_ids                     = module.cluster.private_subnet_ids
  allowed_security_group_ids     = { nodes = module.cluster.node_security_group_id }
  postgres_major_version         = var.postgres_major_version
  postgres_instance_class        = var.postgres_instance_class
  postgres_allocated_storage_gib = var.postgres_allocated_storage_gib
  postgres_multi_az              = var.postgres_multi_az
  postgres_backup_retention_days = var.postgres_backup_retention_days
  deletion_protection            = var.deletion_protection
  redis_node_type                = var.redis_node_type
  redis_replicas                 = var.redis_replicas
  tags                           = local.tags
}

module "storage" {
  source = "../modules/storage"

  bucket_name                        = var.artifact_bucket_name
  force_destroy                      = var.artifact_bucket_force_destroy
  noncurrent_version_expiration_days = var.noncurrent_version_expiration_days
  oidc_provider_arn                  = module.cluster.oidc_provider_arn
  oidc_provider                      = module.cluster.oidc_provider
  service_accounts = [
    { namespace = local.namespace, name = local.worker_service_account },
    { namespace = local.namespace, name = local.jobs_service_account },
  ]
  tags = local.tags
}

module "ctxlab" {
  source = "../modules/ctxlab"

  namespace                = local.namespace
  worker_service_account   = local.worker_service_account
  jobs_service_account     = local.jobs_service_account
  portal_image             = var.portal_image
  worker_image             = var.worker_image
  portal_replicas          = var.portal_replicas
  worker_replicas          = var.worker_replicas
  longest_job_step_seconds = var.longest_job_step_seconds
  database_url             = module.data.database_url
  redis_url                = module.data.redis_url
  database_ca_bundle_pem   = module.data.postgres_ca_bundle_pem
  workload_role_arn        = module.storage.workload_role_arn
  artifact_bucket          = module.storage.bucket_name
  aws_region               = var.region
  ingress                  = var.ingress
  queue_prefix             = var.queue_prefix
  extra_env                = var.extra_env
  extra_values_yaml        = var.ctxlab_extra_values_yaml

  # The pods need the system nodes to exist.
  depends_on = [module.cluster]
}
