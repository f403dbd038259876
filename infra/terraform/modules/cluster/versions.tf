terraform {
  required_version = ">= 1.6.0"

  required_providers {
    # terraform-aws-modules/eks 20.x needs >= 5.95 and < 6.0.
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.95, < 6.0"
    }
  }
}
