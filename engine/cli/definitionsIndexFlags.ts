// --definitions-index and --no-definitions-index, shared by the commands that pack for a model (ask, mcp).
import { UserError } from '../errors';

/** true or false as the flags say; undefined when neither is given (a local model trained with the index then gets it). */
export function explicitDefinitionsIndex(values: { 'definitions-index'?: boolean; 'no-definitions-index'?: boolean }): boolean | undefined {
  if (values['definitions-index'] && values['no-definitions-index']) {
    throw new UserError('--definitions-index and --no-definitions-index contradict each other.', 'Give one of them, or neither (a local model trained with the index then gets it).');
  }
  return values['definitions-index'] ? true : values['no-definitions-index'] ? false : undefined;
}
