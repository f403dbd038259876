# A partial S3 backend: each environment's bucket, key and region are in
# ../envs/<env>.backend.hcl, passed at init:
#   terraform -chdir=infra/terraform/stack init -reconfigure -backend-config=../envs/<env>.backend.hcl
# State holds the database passwords and the Redis token: keep it in an encrypted, versioned,
# access-controlled bucket.
terraform {
  backend "s3" {}
}
