# Where the dev environment's state lives (the stack's backend "s3" {} is partial):
#   terraform -chdir=infra/terraform/stack init -reconfigure -backend-config=../envs/dev.backend.hcl
# State holds the database passwords and the Redis token: an encrypted, versioned,
# access-controlled bucket. Fill in the bucket before the first init.
bucket       = "<your-terraform-state-bucket>"
key          = "ctxlab/dev/terraform.tfstate"
region       = "us-east-1"
encrypt      = true
use_lockfile = true # S3-native locking (Terraform >= 1.10); use dynamodb_table on older versions
