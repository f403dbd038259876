# State holds the database passwords and the Redis token: keep it in an encrypted, versioned,
# access-controlled bucket. Fill in and uncomment before the first shared apply; until then
# state is local (terraform.tfstate in this folder, ignored by git).
#
# terraform {
#   backend "s3" {
#     bucket       = "<your-terraform-state-bucket>"
#     key          = "ctxlab/prod/terraform.tfstate"
#     region       = "us-east-1"
#     encrypt      = true
#     use_lockfile = true # S3-native locking (Terraform >= 1.10); use dynamodb_table on older versions
#   }
# }
