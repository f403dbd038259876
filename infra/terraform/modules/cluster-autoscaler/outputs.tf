output "iam_role_arn" {
  description = "ARN of the autoscaler's IRSA role."
  value       = aws_iam_role.autoscaler.arn
}

output "release_name" {
  description = "Name of the autoscaler's Helm release."
  value       = helm_release.autoscaler.name
}
