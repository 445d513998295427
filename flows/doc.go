// Package flows is Switchboard's domain: the flow definition (a trigger and a
// list of steps), its strict decoding and validation, the DAG readiness rules
// that decide which steps run next, and the sandboxed expression and template
// language used by trigger filters, step conditions and step inputs.
//
// The package is pure Go and does no I/O. A typical caller decodes and
// validates a definition when it is saved:
//
//	def, err := flows.Decode(body)
//	if err == nil {
//		err = flows.Validate(def, env)
//	}
//
// compiles it once per flow version with [Compile], and then, for each run,
// uses the [Program] to filter the trigger, render step inputs, and
// [Advance] to find the steps that became ready.
package flows
