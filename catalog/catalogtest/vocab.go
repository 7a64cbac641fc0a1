package catalogtest

import (
	"fmt"
	"strings"
)

// The word lists the generator draws from. They are small on purpose: names
// share words (many entities are called payments-something) and descriptions
// come from about 300 words, so that the words people search for hit a large
// share of the catalog, the hard case for ranking.

// areaWords start entity names: what the thing is about.
var areaWords = []string{
	"payments", "ledger", "checkout", "billing", "invoice", "fraud", "identity", "auth",
	"search", "catalog", "inventory", "shipping", "orders", "cart", "pricing", "tax",
	"refund", "settlement", "merchant", "customer", "account", "profile", "notification", "email",
	"analytics", "reporting", "metrics", "audit", "session", "token", "risk", "compliance",
	"onboarding", "loyalty", "rewards", "coupon", "subscription", "payout", "wallet", "card",
	"transfer", "currency", "quote", "booking", "review", "recommendation", "media", "image",
	"document", "config", "feature", "experiment", "routing", "address", "delivery", "warehouse",
	"supplier", "partner", "fulfillment", "messaging",
}

// roleWords end component names: what the thing does.
var roleWords = []string{
	"gateway", "service", "worker", "processor", "engine", "store", "manager", "router",
	"proxy", "adapter", "sync", "importer", "exporter", "scheduler", "indexer", "renderer",
	"validator", "collector", "aggregator", "dispatcher", "publisher", "consumer", "tracker", "monitor",
	"resolver", "builder", "portal", "dashboard", "console", "frontend", "backend", "bridge",
	"connector", "registry", "orchestrator",
}

// Words that end the names of other kinds.
var (
	apiWords    = []string{"api", "events", "rpc", "feed", "webhooks", "stream"}
	teamWords   = []string{"team", "squad", "crew", "guild", "pod"}
	systemWords = []string{"platform", "suite", "core", "hub"}
)

// resourceTypes maps a resource type to the words its names end with.
var resourceTypes = []struct {
	Type  string
	Words []string
}{
	{"database", []string{"db", "replica"}},
	{"queue", []string{"queue", "topic"}},
	{"s3-bucket", []string{"bucket", "archive"}},
}

// generalWords make up descriptions, with areaWords and roleWords mixed in
// (see vocabulary).
var generalWords = []string{
	"handles", "processes", "stores", "serves", "exposes", "publishes", "consumes", "validates",
	"routes", "schedules", "tracks", "computes", "aggregates", "syncs", "exports", "imports",
	"renders", "caches", "indexes", "streams", "retries", "reconciles", "enriches", "transforms",
	"forwards", "manages", "monitors", "verifies", "encrypts", "signs", "batches", "queues",
	"notifies", "calculates", "generates", "migrates", "replicates", "archives", "deduplicates", "throttles",
	"requests", "responses", "events", "messages", "records", "transactions", "balances", "users",
	"merchants", "customers", "partners", "suppliers", "orders", "payouts", "refunds", "invoices",
	"receipts", "statements", "reports", "dashboards", "alerts", "incidents", "deployments", "releases",
	"schemas", "contracts", "tokens", "secrets", "keys", "certificates", "credentials", "permissions",
	"roles", "policies", "rules", "limits", "quotas", "thresholds", "scores", "signals",
	"features", "models", "predictions", "experiments", "variants", "segments", "cohorts", "campaigns",
	"emails", "pushes", "webhook", "callbacks", "jobs", "tasks", "workflows", "pipelines",
	"batch", "realtime", "nightly", "hourly", "daily", "weekly", "monthly", "async",
	"internal", "external", "public", "private", "legacy", "new", "primary", "secondary",
	"regional", "global", "european", "american", "asian", "mobile", "web", "desktop",
	"fast", "reliable", "secure", "scalable", "idempotent", "durable", "cached", "sharded",
	"replicated", "encrypted", "compressed", "versioned", "audited", "signed", "rated", "throttled",
	"card", "bank", "cash", "crypto", "loan", "credit", "debit", "interest",
	"fee", "fees", "commission", "discount", "promotion", "voucher", "gift", "points",
	"price", "prices", "stock", "shipment", "parcel", "carrier", "label", "tracking",
	"store", "shop", "product", "products", "listing", "listings", "category", "brand",
	"search", "ranking", "relevance", "suggestions", "autocomplete", "typeahead", "filters", "facets",
	"identity", "login", "signup", "password", "mfa", "sso", "oauth", "saml",
	"session", "cookie", "consent", "privacy", "gdpr", "pci", "kyc", "aml",
	"ledger", "journal", "entries", "postings", "accounts", "reconciliation", "clearing", "settlement",
	"database", "postgres", "kafka", "redis", "bucket", "queue", "topic", "cluster",
	"latency", "throughput", "availability", "errors", "retries", "timeouts", "backpressure", "capacity",
	"migration", "backfill", "snapshot", "replay", "export", "import", "upload", "download",
	"tenant", "region", "currency", "locale", "timezone", "calendar", "holiday", "country",
	"team", "owners", "oncall", "runbook", "docs", "support", "operations", "finance",
}

// tags is the small set entity tags come from (all valid Backstage tags).
var tags = []string{
	"go", "java", "python", "typescript", "kotlin", "rust", "node", "react",
	"postgres", "mysql", "redis", "kafka", "rabbitmq", "grpc", "rest", "graphql",
	"s3", "elasticsearch", "pci", "gdpr", "internal", "public", "k8s", "serverless",
	"batch", "ml", "c++", "c#",
}

var lifecycles = []string{"production", "production", "production", "production", "experimental", "deprecated"}

var (
	firstNames = []string{
		"alice", "bilal", "carmen", "dmitri", "elena", "farid", "grace", "hiro",
		"ines", "jonas", "kwame", "lena", "mateo", "nadia", "oscar", "priya",
		"quentin", "rosa", "samir", "tara", "umar", "vera", "wei", "ximena",
		"yusuf", "zoe", "amara", "bruno", "chloe", "diego", "emma", "felix",
		"gita", "hamza", "isla", "jakob", "keiko", "liam", "maya", "noah",
	}
	lastNames = []string{
		"nguyen", "haddad", "ortiz", "ivanov", "rossi", "rahman", "okafor", "tanaka",
		"silva", "berg", "asante", "fischer", "garcia", "ali", "lindqvist", "sharma",
		"dubois", "moreno", "khan", "obrien", "yilmaz", "novak", "chen", "lopez",
		"demir", "smith", "mensah", "costa", "martin", "herrera", "kowalski", "weber",
		"patel", "kim", "santos", "jensen", "suzuki", "murphy", "adeyemi", "meyer",
	}
)

// vocabulary is the description vocabulary, most frequent first: general
// words with the name words mixed in every third place, so that the words
// of names are also frequent description words.
var vocabulary = func() []string {
	names := append(append([]string{}, areaWords...), roleWords...)
	var out []string
	seen := map[string]bool{}
	add := func(w string) {
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	gi, ni := 0, 0
	for gi < len(generalWords) || ni < len(names) {
		for k := 0; k < 2 && gi < len(generalWords); k++ {
			add(generalWords[gi])
			gi++
		}
		if ni < len(names) {
			add(names[ni])
			ni++
		}
	}
	for _, w := range out {
		if w != strings.ToLower(w) || strings.ContainsAny(w, " -") {
			panic(fmt.Sprintf("catalogtest: bad vocabulary word %q", w))
		}
	}
	return out
}()

// nameWords are the words that entity names are built from.
var nameWords = append(append([]string{}, areaWords...), roleWords...)
