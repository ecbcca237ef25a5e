// Types of the ES module entry point: the same as the CommonJS one, plus the
// default export (the object of every function and the error class).
import * as portConvention from './index.js'

export * from './index.js'
export default portConvention
