# The artifacts bucket (checkpoints, LoRA adapters, merged models, NIAH results) and the IAM role
# the worker and its GPU job pods assume through IRSA. The role can touch this bucket and
# nothing else; the bucket accepts TLS only and can never be made public.

data "aws_partition" "current" {}

locals {
  bucket_arn = aws_s3_bucket.artifacts.arn
  subjects   = [for sa in var.service_accounts : "system:serviceaccount:${sa.namespace}:${sa.name}"]
}

resource "aws_kms_key" "artifacts" {
  count = var.kms_encryption ? 1 : 0

  description             = "ctxlab artifacts bucket ${var.bucket_name}"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  tags                    = var.tags
}

resource "aws_kms_alias" "artifacts" {
  count = var.kms_encryption ? 1 : 0

  name          = "alias/${var.bucket_name}"
  target_key_id = aws_kms_key.artifacts[0].key_id
}

resource "aws_s3_bucket" "artifacts" {
  bucket        = var.bucket_name
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_ownership_controls" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.kms_encryption ? "aws:kms" : "AES256"
      kms_master_key_id = var.kms_encryption ? aws_kms_key.artifacts[0].arn : null
    }
    # One KMS data key per bucket instead of per object: multi-GB checkpoints are uploaded in
    # thousands of parts, and per-object KMS calls would cost more than the storage.
    bucket_key_enabled = var.kms_encryption
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id

  rule {
    id     = "expire-noncurrent-versions"
    status = "Enabled"
    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }
  }

  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"
    filter {}

    # A training pod killed mid-upload leaves invisible parts that are billed like objects.
    abort_incomplete_multipart_upload {
      days_after_initiation = 3
    }
  }

  depends_on = [aws_s3_bucket_versioning.artifacts]
}

data "aws_iam_policy_document" "bucket" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      local.bucket_arn,
      "${local.bucket_arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id
  policy = data.aws_iam_policy_document.bucket.json

  # The public access block must exist first, or S3 may reject the policy as public.
  depends_on = [aws_s3_bucket_public_access_block.artifacts]
}

# --- Workload identity (IRSA) ----------------------------------------------------------------

data "aws_iam_policy_document" "assume" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [var.oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${var.oidc_provider}:sub"
      values   = local.subjects
    }

    condition {
      test     = "StringEquals"
      variable = "${var.oidc_provider}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "workload" {
  statement {
    sid       = "ListTheBucket"
    effect    = "Allow"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"]
    resources = [local.bucket_arn]
  }

  statement {
    sid    = "ReadWriteObjects"
    effect = "Allow"
    actions = concat(
      ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
      var.allow_delete ? ["s3:DeleteObject"] : [],
    )
    resources = ["${local.bucket_arn}/*"]
  }

  dynamic "statement" {
    for_each = var.kms_encryption ? [1] : []

    content {
      sid       = "UseTheBucketKey"
      effect    = "Allow"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [aws_kms_key.artifacts[0].arn]
    }
  }
}

resource "aws_iam_role" "workload" {
  name_prefix        = "${substr(var.bucket_name, 0, 24)}-wl-"
  description        = "ctxlab worker and GPU job pods: read/write ${var.bucket_name}"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "workload" {
  name   = "artifacts-bucket"
  role   = aws_iam_role.workload.id
  policy = data.aws_iam_policy_document.workload.json
}
