// Types of the ES module entry point: the same as the CommonJS one, plus the
// default export (the object of every function and the error class).
import * as portConvention from './main.js'

export * from './main.js'
export default portConvention
