// The capacity contract lives with the other API contracts; Terraform's tests read it from there.
export * from '../../libs/contracts/src/capacity';
