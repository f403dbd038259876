# prod: three AZs with a NAT gateway each, Multi-AZ PostgreSQL and Redis with failover, deletion
# protection, and H100 (p5) and A100 (p4de) pools sized by ctxlab's capacity API.
#   terraform -chdir=infra/terraform/stack init -reconfigure -backend-config=../envs/prod.backend.hcl
#   terraform -chdir=infra/terraform/stack plan -var-file=../envs/prod.tfvars
# Replace the example values (acme-…, 123456789012, 203.0.113.0/24, example.com, the certificate
# ARN) with your installation's. No secret belongs here: the capacity token goes in the
# environment,
#   export TF_VAR_capacity_api_token=...

environment = "prod"

# --- Where

region             = "us-east-1"
availability_zones = ["us-east-1a", "us-east-1b", "us-east-1c"]
name               = "ctxlab-prod"

# --- Cluster

vpc_cidr             = "10.50.0.0/16"
single_nat_gateway   = false
api_allowed_cidrs    = ["203.0.113.0/24"]
admin_principal_arns = ["arn:aws:iam::123456789012:role/platform-admins"]

system_node_group = {
  instance_types = ["m7i.xlarge"]
  min_size       = 3
  max_size       = 6
  desired_size   = 3
}

# gpu_type must be the id ctxlab's capacity API reports (libs/longctx GPU catalog ids).
# max_size is the budget cap: the capacity API can size a pool up to it, never beyond.
# p5/p4de are scarce on demand: check which zones offer them (or buy a capacity block /
# reservation) and narrow each pool with availability_zones.
gpu_pools = {
  h100 = {
    instance_types = ["p5.48xlarge"] # 8× H100 SXM 80 GB
    gpu_type       = "h100-sxm-80gb"
    gpus_per_node  = 8
    min_size       = 0
    desired_size   = 0
    max_size       = 4
    disk_size_gib  = 500
    # availability_zones = ["us-east-1a"] # narrow to the zones that offer p5 (or hold your reservation)
  }
  a100 = {
    instance_types = ["p4de.24xlarge"] # 8× A100 SXM4 80 GB
    gpu_type       = "a100-80gb"
    gpus_per_node  = 8
    min_size       = 0
    desired_size   = 0
    max_size       = 4
    disk_size_gib  = 500
  }
}

# --- Capacity API

use_capacity_api        = true
ctxlab_url              = "https://ctxlab.example.com"
capacity_headroom_nodes = 1

# --- Data

postgres_instance_class        = "db.m7g.large"
postgres_allocated_storage_gib = 100
postgres_multi_az              = true
postgres_backup_retention_days = 14
deletion_protection            = true
redis_node_type                = "cache.m7g.large"
redis_replicas                 = 1

# --- Storage

artifact_bucket_name               = "acme-ctxlab-prod-artifacts"
artifact_bucket_force_destroy      = false
noncurrent_version_expiration_days = 30

# --- ctxlab

portal_image = {
  repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/ctxlab-portal"
  tag        = "0.1.0"
}

worker_image = {
  repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/ctxlab-worker"
  tag        = "0.1.0"
}

portal_replicas          = 2
worker_replicas          = 2
longest_job_step_seconds = 3600

ingress = {
  enabled    = true
  class_name = "alb"
  host       = "ctxlab.example.com"
  annotations = {
    "alb.ingress.kubernetes.io/scheme"          = "internet-facing"
    "alb.ingress.kubernetes.io/target-type"     = "ip"
    "alb.ingress.kubernetes.io/listen-ports"    = "[{\"HTTPS\":443}]"
    "alb.ingress.kubernetes.io/certificate-arn" = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
  }
}
