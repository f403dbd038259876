output "cluster_name" {
  description = "Name of the EKS cluster."
  value       = module.eks.cluster_name
}

output "cluster_endpoint" {
  description = "HTTPS endpoint of the Kubernetes API server."
  value       = module.eks.cluster_endpoint
}

output "cluster_certificate_authority_data" {
  description = "Base64-encoded CA certificate of the Kubernetes API server (for the kubernetes and helm providers)."
  value       = module.eks.cluster_certificate_authority_data
}

output "oidc_provider_arn" {
  description = "ARN of the cluster's IAM OIDC provider, trusted by IRSA roles."
  value       = module.eks.oidc_provider_arn
}

output "oidc_provider" {
  description = "The OIDC issuer without its https:// scheme, as IRSA trust-policy condition keys spell it (oidc.eks.<region>.amazonaws.com/id/<id>)."
  value       = module.eks.oidc_provider
}

output "node_security_group_id" {
  description = "Security group of the nodes (and so of their pods): the only source the databases accept."
  value       = module.eks.node_security_group_id
}

output "cluster_primary_security_group_id" {
  description = "The security group EKS creates for the cluster and attaches to its control-plane ENIs."
  value       = module.eks.cluster_primary_security_group_id
}

output "vpc_id" {
  description = "ID of the VPC."
  value       = module.vpc.vpc_id
}

output "private_subnet_ids" {
  description = "IDs of the private subnets (nodes, PostgreSQL, Redis)."
  value       = module.vpc.private_subnets
}

output "gpu_node_groups" {
  description = "Per GPU pool key: the EKS node group id (cluster:node-group), its Auto Scaling group names, the GPU type label and the sizes requested."
  value = {
    for name, p in var.gpu_node_groups : name => {
      node_group_id = module.eks.eks_managed_node_groups["gpu-${name}"].node_group_id
      asg_names     = module.eks.eks_managed_node_groups["gpu-${name}"].node_group_autoscaling_group_names
      gpu_type      = p.gpu_type
      gpus_per_node = p.gpus_per_node
      min_size      = p.min_size
      desired_size  = p.desired_size
      max_size      = p.max_size
    }
  }
}
