package store

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// defaultCredentials loads the SDK's default credential chain (environment,
// shared profile, container or instance role) for deployments on AWS.
func defaultCredentials(region string) (aws.CredentialsProvider, error) {
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion(region))
	if err != nil {
		return nil, fmt.Errorf("store: load AWS credentials: %w", err)
	}
	return cfg.Credentials, nil
}
