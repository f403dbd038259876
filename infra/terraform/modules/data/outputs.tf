output "database_url" {
  description = "DATABASE_URL for the portal and workers (postgresql://…?sslmode=verify-full). Secret: it holds the password."
  value       = local.database_url
  sensitive   = true
}

output "redis_url" {
  description = "REDIS_URL for the portal and workers (rediss://:<token>@<primary endpoint>:6379). Secret: it holds the AUTH token."
  value       = local.redis_url
  sensitive   = true
}

output "postgres_ca_bundle_pem" {
  description = "The RDS CA bundle (PEM) pods must trust to verify PostgreSQL's certificate (NODE_EXTRA_CA_CERTS)."
  value       = data.http.rds_ca_bundle.response_body
}

output "postgres_address" {
  description = "Host name of the PostgreSQL instance."
  value       = aws_db_instance.postgres.address
}

output "redis_primary_address" {
  description = "Host name of the Redis primary endpoint."
  value       = aws_elasticache_replication_group.redis.primary_endpoint_address
}

output "postgres_security_group_id" {
  description = "Security group of the PostgreSQL instance."
  value       = aws_security_group.postgres.id
}

output "redis_security_group_id" {
  description = "Security group of the Redis replication group."
  value       = aws_security_group.redis.id
}
