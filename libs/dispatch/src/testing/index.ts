// Test support for @ctxlab/dispatch: a Kubernetes API server double and the field notes' seed jobs.
export * from './seeds';
export {
  startFakeKubeApiServer,
  type FakeKubeApiServer,
  type FakeKubeOptions,
  type FakeNode,
  type FakeRequest,
  type PodTermination,
} from './fake-kube-apiserver';
export { rejection, thrown } from './thrown';
