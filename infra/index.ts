/**
 * The npm package's entry point (`import { McpCredentialRotator } from 'datagrid-mcp-rotator'`): the construct with
 * its props, and the stack the repository deploys. Compiled to lib/ when the package is packed.
 */
export * from './mcp-credential-rotator.ts';
export { McpRotatorStack } from './stack.ts';
export type { McpRotatorStackProps } from './stack.ts';
export type { RotatorConfig } from '../lambda/types/index.ts';
