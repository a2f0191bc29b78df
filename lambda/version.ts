/**
 * The rotator's version, read from package.json (the one place it is written). A bundle carries only this field of
 * the manifest (scripts/esbuild-options.ts, packageVersionOnly), so the cold start does not parse the whole file.
 */
import packageJson from '../package.json' with { type: 'json' };
import { ROTATOR_NAME } from './constants.ts';

export const ROTATOR_VERSION: string = packageJson.version;
export const USER_AGENT = `${ROTATOR_NAME}/${ROTATOR_VERSION}`;
