# ctxlab itself, deployed with the chart in infra/chart/ctxlab: the portal (UI + tRPC API) and
# the workers. Terraform owns the Secrets (it created the databases) and passes the chart only
# their names, so the connection strings never appear in Helm values or release history.

locals {
  namespace  = var.create_namespace ? kubernetes_namespace_v1.this[0].metadata[0].name : var.namespace
  chart_path = coalesce(var.chart_path, "${path.module}/../../../chart/ctxlab")

  database_secret_name = "${var.release_name}-database"
  redis_secret_name    = "${var.release_name}-redis"
  ca_config_map_name   = "${var.release_name}-ca-bundle"

  portal_service_account = "${var.release_name}-portal"

  values = {
    portal = {
      image     = var.portal_image
      replicas  = var.portal_replicas
      resources = var.portal_resources
      ingress = {
        enabled       = var.ingress.enabled
        className     = var.ingress.class_name
        host          = var.ingress.host
        annotations   = var.ingress.annotations
        tlsSecretName = var.ingress.tls_secret_name
      }
    }

    worker = {
      image                         = var.worker_image
      replicas                      = var.worker_replicas
      resources                     = var.worker_resources
      longestJobStepSeconds         = var.longest_job_step_seconds
      terminationGracePeriodSeconds = var.longest_job_step_seconds + var.shutdown_margin_seconds
    }

    serviceAccounts = {
      workloadRoleArn = var.workload_role_arn
      worker          = { name = var.worker_service_account }
      jobs            = { name = var.jobs_service_account }
      portal          = { name = local.portal_service_account }
    }

    secrets = {
      database = { name = local.database_secret_name, key = "DATABASE_URL" }
      redis    = { name = local.redis_secret_name, key = "REDIS_URL" }
    }

    caBundle = {
      configMapName = local.ca_config_map_name
      key           = "ca.pem"
    }

    config = {
      queuePrefix    = var.queue_prefix
      artifactBucket = var.artifact_bucket
      awsRegion      = var.aws_region
      extraEnv       = var.extra_env
    }
  }
}

resource "kubernetes_namespace_v1" "this" {
  count = var.create_namespace ? 1 : 0

  metadata {
    name = var.namespace
    labels = {
      "app.kubernetes.io/part-of" = "ctxlab"
    }
  }
}

resource "kubernetes_secret_v1" "database" {
  metadata {
    name      = local.database_secret_name
    namespace = local.namespace
  }

  type = "Opaque"
  data = { DATABASE_URL = var.database_url }
}

resource "kubernetes_secret_v1" "redis" {
  metadata {
    name      = local.redis_secret_name
    namespace = local.namespace
  }

  type = "Opaque"
  data = { REDIS_URL = var.redis_url }
}

resource "kubernetes_config_map_v1" "ca_bundle" {
  metadata {
    name      = local.ca_config_map_name
    namespace = local.namespace
  }

  data = { "ca.pem" = var.database_ca_bundle_pem }
}

resource "helm_release" "ctxlab" {
  name      = var.release_name
  namespace = local.namespace
  chart     = local.chart_path

  # Roll back to the previous release when pods do not become ready.
  atomic          = true
  cleanup_on_fail = true
  wait            = true
  timeout         = var.helm_timeout_seconds

  values = compact([yamlencode(local.values), var.extra_values_yaml])

  depends_on = [
    kubernetes_secret_v1.database,
    kubernetes_secret_v1.redis,
    kubernetes_config_map_v1.ca_bundle,
  ]
}
