export { settlesWithin } from './settles-within.js';
