package loadgen

// On Linux a Client runs on the event loop; the tests run both.
func init() { runners = append(runners, runnerCase{"loop", func(n int) runner { return newLoop(n) }}) }
