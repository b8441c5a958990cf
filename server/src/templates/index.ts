/** Pure template logic: parsing, rendering and hashing of job specs and volume definitions. */
export { TemplateError, formatIssue, type TemplateDocument, type TemplateIssue } from './errors.js';
export { renderTemplate, findVariableErrors, RenderError, type TemplateVars, type VariableProblem } from './render.js';
export { parseJobSpec, type JobSpec, type PortMapping, type Mount, type DeviceMapping } from './job-spec.js';
export { parseVolumesSpec } from './volumes-spec.js';
export {
  validateTemplate,
  renderJob,
  type TemplatePlatform,
  type TemplateSource,
  type ValidateTemplateInput,
  type ValidationResult,
  type RenderedJob,
} from './validate.js';
export { templateHash, type TemplateHashInput } from './hash.js';
