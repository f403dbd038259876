# dev: one small cluster, single NAT gateway, smallest databases, one GPU pool that sits at zero
# nodes until a job or endpoint needs it.
#   terraform -chdir=infra/terraform/stack init -reconfigure -backend-config=../envs/dev.backend.hcl
#   terraform -chdir=infra/terraform/stack plan -var-file=../envs/dev.tfvars
# Replace the example values (acme-…, 123456789012, example.com, the certificate ARN) with your
# installation's. No secret belongs here: the capacity token goes in the environment,
#   export TF_VAR_capacity_api_token=...

environment = "dev"

# --- Where

region             = "us-east-1"
availability_zones = ["us-east-1a", "us-east-1b"]
name               = "ctxlab-dev"

# --- Cluster

vpc_cidr             = "10.40.0.0/16"
single_nat_gateway   = true
api_allowed_cidrs    = ["0.0.0.0/0"]
admin_principal_arns = []

system_node_group = {
  instance_types = ["t3.large"]
  min_size       = 1
  max_size       = 3
  desired_size   = 2
}

# One small GPU pool that costs nothing while idle: 1× A10G 24 GB per node (fits an 8B model in
# bf16 with a short context, LoRA merges of 8B models, NIAH smoke runs).
gpu_pools = {
  a10g = {
    instance_types = ["g5.2xlarge"]
    gpu_type       = "a10g-24gb"
    gpus_per_node  = 1
    min_size       = 0
    desired_size   = 0
    max_size       = 2
    disk_size_gib  = 200
  }
}

# --- Capacity API

# First apply: false (ctxlab is not running yet). Afterwards, point it at the portal.
use_capacity_api = false
ctxlab_url       = "https://ctxlab-dev.example.com"

# --- Data

postgres_instance_class        = "db.t4g.micro"
postgres_allocated_storage_gib = 20
postgres_multi_az              = false
postgres_backup_retention_days = 3
deletion_protection            = false
redis_node_type                = "cache.t4g.micro"
redis_replicas                 = 0

# --- Storage

artifact_bucket_name               = "acme-ctxlab-dev-artifacts"
artifact_bucket_force_destroy      = true
noncurrent_version_expiration_days = 7

# --- ctxlab

portal_image = {
  repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/ctxlab-portal"
  tag        = "0.1.0"
}

worker_image = {
  repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/ctxlab-worker"
  tag        = "0.1.0"
}

portal_replicas = 1
worker_replicas = 1

ingress = {
  enabled    = true
  class_name = "alb"
  host       = "ctxlab-dev.example.com"
  annotations = {
    "alb.ingress.kubernetes.io/scheme"          = "internet-facing"
    "alb.ingress.kubernetes.io/target-type"     = "ip"
    "alb.ingress.kubernetes.io/listen-ports"    = "[{\"HTTPS\":443}]"
    "alb.ingress.kubernetes.io/certificate-arn" = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
  }
}
