import { builder } from './builder.js';
// Each import registers one feature's types and fields on the builder.
import './roles.js';
import './users.js';
import './accounts.js';
import './two-factor.js';
import './audit.js';
import './templates.js';
import './starters.js';
import './groups.js';
import './template-images.js';
import './spaces.js';
import './agents.js';
import './terminals.js';
import './sign-in.js';
import './sharing.js';
import './webhooks.js';

export const schema = builder.toSchema({ sortSchema: true });
