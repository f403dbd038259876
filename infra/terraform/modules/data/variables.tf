variable "name" {
  description = "Prefix of every resource name (the cluster name is a good choice)."
  type        = string
}

variable "vpc_id" {
  description = "VPC the databases live in (cluster module output)."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets for PostgreSQL and Redis (cluster module output); at least two AZs."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "RDS and ElastiCache subnet groups need subnets in at least two availability zones."
  }
}

variable "allowed_security_group_ids" {
  description = "Security groups allowed to connect, keyed by a static name (the keys drive for_each, so they must be known at plan time): normally { nodes = <node security group> }."
  type        = map(string)
}

variable "postgres_major_version" {
  description = "PostgreSQL major version (\"15\" or \"16\"); RDS picks the newest minor and upgrades minors automatically."
  type        = string
  default     = "16"

  validation {
    condition     = contains(["15", "16"], var.postgres_major_version)
    error_message = "postgres_major_version must be \"15\" or \"16\"."
  }
}

variable "postgres_instance_class" {
  description = "RDS instance class (db.t4g.micro for dev, db.m7g.large or larger for prod)."
  type        = string
  default     = "db.t4g.micro"
}

variable "postgres_allocated_storage_gib" {
  description = "Initial gp3 storage for PostgreSQL in GiB."
  type        = number
  default     = 20
}

variable "postgres_max_allocated_storage_gib" {
  description = "Ceiling for RDS storage autoscaling in GiB (0 disables autoscaling)."
  type        = number
  default     = 100
}

variable "postgres_multi_az" {
  description = "Run a synchronous standby in a second AZ (prod)."
  type        = bool
  default     = false
}

variable "postgres_backup_retention_days" {
  description = "Days of automated backups (point-in-time recovery window)."
  type        = number
  default     = 7
}

variable "database_name" {
  description = "Name of the ctxlab database."
  type        = string
  default     = "ctxlab"
}

variable "database_username" {
  description = "Master user of the PostgreSQL instance (the apps connect as this user)."
  type        = string
  default     = "ctxlab"
}

variable "deletion_protection" {
  description = "Refuse to delete the database instance (and take a final snapshot when it is deleted)."
  type        = bool
  default     = true
}

variable "redis_engine_version" {
  description = "ElastiCache Redis engine version (BullMQ needs Redis >= 6.2)."
  type        = string
  default     = "7.1"
}

variable "redis_parameter_group_family" {
  description = "Parameter group family matching redis_engine_version."
  type        = string
  default     = "redis7"
}

variable "redis_node_type" {
  description = "ElastiCache node type (cache.t4g.micro for dev, cache.m7g.large for prod)."
  type        = string
  default     = "cache.t4g.micro"
}

variable "redis_replicas" {
  description = "Read replicas besides the primary; 1 or more enables automatic failover and Multi-AZ."
  type        = number
  default     = 0
}

variable "rds_ca_bundle_url" {
  description = "Where to fetch the RDS CA bundle that pods need to verify PostgreSQL's TLS certificate (node-postgres treats sslmode=require as verify-full)."
  type        = string
  default     = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
