# ctxlab's state: PostgreSQL (the registry) on RDS and Redis (BullMQ queues) on ElastiCache,
# both in private subnets, reachable only from the security groups given (the cluster's nodes),
# both encrypted at rest and in transit.

locals {
  postgres_port = 5432
  redis_port    = 6379
}

# Letters and digits only: the passwords are embedded in DATABASE_URL/REDIS_URL unescaped, and
# RDS refuses '/', '@', '"' and spaces anyway. 40 alphanumerics are ~238 bits.
resource "random_password" "postgres" {
  length  = 40
  special = false
}

resource "random_password" "redis" {
  length  = 48
  special = false
}

# --- PostgreSQL ------------------------------------------------------------------------------

resource "aws_db_subnet_group" "postgres" {
  name_prefix = "${var.name}-"
  description = "ctxlab PostgreSQL: private subnets"
  subnet_ids  = var.subnet_ids
  tags        = var.tags
}

resource "aws_security_group" "postgres" {
  name_prefix = "${var.name}-postgres-"
  description = "ctxlab PostgreSQL: only the cluster may connect"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-postgres" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "postgres" {
  for_each = var.allowed_security_group_ids

  security_group_id            = aws_security_group.postgres.id
  referenced_security_group_id = each.value
  ip_protocol                  = "tcp"
  from_port                    = local.postgres_port
  to_port                      = local.postgres_port
  description                  = "PostgreSQL from ${each.key}"
}

resource "aws_db_parameter_group" "postgres" {
  name_prefix = "${var.name}-pg${var.postgres_major_version}-"
  family      = "postgres${var.postgres_major_version}"
  description = "ctxlab: TLS required"
  tags        = var.tags

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_db_instance" "postgres" {
  identifier_prefix = "${var.name}-"

  engine         = "postgres"
  engine_version = var.postgres_major_version
  instance_class = var.postgres_instance_class

  allocated_storage     = var.postgres_allocated_storage_gib
  max_allocated_storage = var.postgres_max_allocated_storage_gib
  storage_type          = "gp3"
  storage_encrypted     = true

  db_name  = var.database_name
  username = var.database_username
  password = random_password.postgres.result
  port     = local.postgres_port

  db_subnet_group_name   = aws_db_subnet_group.postgres.name
  vpc_security_group_ids = [aws_security_group.postgres.id]
  parameter_group_name   = aws_db_parameter_group.postgres.name
  publicly_accessible    = false
  multi_az               = var.postgres_multi_az

  backup_retention_period     = var.postgres_backup_retention_days
  auto_minor_version_upgrade  = true
  allow_major_version_upgrade = false
  copy_tags_to_snapshot       = true

  deletion_protection       = var.deletion_protection
  skip_final_snapshot       = !var.deletion_protection
  final_snapshot_identifier = var.deletion_protection ? "${var.name}-ctxlab-final" : null

  tags = var.tags
}

# node-postgres (pg >= 8.x) treats sslmode=require as verify-full, so pods must trust the RDS CA.
data "http" "rds_ca_bundle" {
  url = var.rds_ca_bundle_url

  lifecycle {
    postcondition {
      condition     = self.status_code == 200 && strcontains(self.response_body, "BEGIN CERTIFICATE")
      error_message = "Could not fetch the RDS CA bundle from ${var.rds_ca_bundle_url}."
    }
  }
}

# --- Redis -----------------------------------------------------------------------------------

resource "aws_elasticache_subnet_group" "redis" {
  name        = "${var.name}-redis"
  description = "ctxlab Redis: private subnets"
  subnet_ids  = var.subnet_ids
  tags        = var.tags
}

resource "aws_security_group" "redis" {
  name_prefix = "${var.name}-redis-"
  description = "ctxlab Redis: only the cluster may connect"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-redis" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "redis" {
  for_each = var.allowed_security_group_ids

  security_group_id            = aws_security_group.redis.id
  referenced_security_group_id = each.value
  ip_protocol                  = "tcp"
  from_port                    = local.redis_port
  to_port                      = local.redis_port
  description                  = "Redis from ${each.key}"
}

# BullMQ keeps jobs, locks and queue state in Redis keys without TTLs: an eviction policy other
# than noeviction silently drops jobs under memory pressure. ElastiCache's default is volatile-lru.
# No appendonly here, although BullMQ's production guide asks for AOF (and `npm start` runs Redis
# with it): ElastiCache ignores AOF on Redis >= 2.8.22 and on Multi-AZ groups. What keeps queued
# jobs when a primary fails is a replica in another AZ with automatic failover (redis_replicas >= 1,
# prod's default), plus the daily snapshot; PostgreSQL stays the source of truth either way.
resource "aws_elasticache_parameter_group" "redis" {
  name        = "${var.name}-bullmq"
  family      = var.redis_parameter_group_family
  description = "ctxlab BullMQ: maxmemory-policy noeviction"
  tags        = var.tags

  parameter {
    name  = "maxmemory-policy"
    value = "noeviction"
  }
}

resource "aws_elasticache_replication_group" "redis" {
  replication_group_id = "${var.name}-redis"
  description          = "ctxlab BullMQ queues"

  engine               = "redis"
  engine_version       = var.redis_engine_version
  node_type            = var.redis_node_type
  port                 = local.redis_port
  parameter_group_name = aws_elasticache_parameter_group.redis.name

  num_cache_clusters         = 1 + var.redis_replicas
  automatic_failover_enabled = var.redis_replicas > 0
  multi_az_enabled           = var.redis_replicas > 0

  subnet_group_name  = aws_elasticache_subnet_group.redis.name
  security_group_ids = [aws_security_group.redis.id]

  at_rest_encryption_enabled = true
  transit_encryption_enabled = true
  auth_token                 = random_password.redis.result

  snapshot_retention_limit   = 1
  auto_minor_version_upgrade = true
  apply_immediately          = true

  tags = var.tags
}

locals {
  database_url = format(
    "postgresql://%s:%s@%s:%d/%s?sslmode=verify-full",
    var.database_username,
    random_password.postgres.result,
    aws_db_instance.postgres.address,
    local.postgres_port,
    var.database_name,
  )

  # rediss:// makes ioredis use TLS; an empty user name sends AUTH <token>.
  redis_url = format(
    "rediss://:%s@%s:%d",
    random_password.redis.result,
    aws_elasticache_replication_group.redis.primary_endpoint_address,
    local.redis_port,
  )
}
