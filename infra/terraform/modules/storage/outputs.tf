output "bucket_name" {
  description = "Name of the artifacts bucket."
  value       = aws_s3_bucket.artifacts.bucket
}

output "bucket_arn" {
  description = "ARN of the artifacts bucket."
  value       = aws_s3_bucket.artifacts.arn
}

output "workload_role_arn" {
  description = "ARN of the IRSA role; annotate the bound service accounts with eks.amazonaws.com/role-arn = this."
  value       = aws_iam_role.workload.arn
}

output "kms_key_arn" {
  description = "ARN of the bucket's KMS key, or null with SSE-S3."
  value       = var.kms_encryption ? aws_kms_key.artifacts[0].arn : null
}
