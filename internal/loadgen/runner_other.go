//go:build !linux

package loadgen

func newRunner(concurrency int) runner { return newWorkers(concurrency) }
