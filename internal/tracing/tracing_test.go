package tracing

import (
	"context"
	"testing"
)

func TestSetupSwitch(t *testing.T) {
	tests := []struct {
		env    map[string]string
		on, ok bool
	}{
		{map[string]string{}, false, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_SDK_DISABLED": "true"}, false, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_TRACES_EXPORTER": "none"}, false, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_TRACES_EXPORTER": "zipkin"}, false, false},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, false, false},
		{map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:1/v1/traces"}, true, true},
	}
	for _, tt := range tests {
		on, stop, err := Setup(context.Background(), func(k string) string { return tt.env[k] })
		if on != tt.on || (err == nil) != tt.ok {
			t.Errorf("%v: on=%v err=%v", tt.env, on, err)
		}
		stop(context.Background())
	}
}
