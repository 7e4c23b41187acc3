package postgres

import "testing"

func TestGenericPlans(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:p@h:5432/db?sslmode=disable": "postgres://u:p@h:5432/db?plan_cache_mode=force_generic_plan&sslmode=disable",
		"postgres://h/db?plan_cache_mode=auto":     "postgres://h/db?plan_cache_mode=auto",
		"host=h dbname=db":                         "host=h dbname=db plan_cache_mode=force_generic_plan",
	} {
		if got := genericPlans(in); got != want {
			t.Errorf("genericPlans(%q) = %q, want %q", in, got, want)
		}
	}
}
