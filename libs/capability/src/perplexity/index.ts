export { encodePrefix, perplexityWindows } from './windows';
export { endpointPerplexity, type EndpointPerplexity, perplexityFromLogprobs, type PerplexityScore, type PromptLogprobsClient, type WindowPerplexity } from './endpoint';
