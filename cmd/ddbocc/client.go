package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/repo"
)

// client is the DynamoDB client of one invocation and where it points.
type client struct {
	ddb      *dynamodb.Client
	region   string
	endpoint string // "" for AWS itself
}

// localRegion is the region signed for with --endpoint and no region
// given: DynamoDB Local accepts any.
const localRegion = "us-east-1"

// connect builds the client: with --endpoint and no --profile, static
// dummy credentials (DynamoDB Local); otherwise the standard AWS config
// chain (environment, --profile or AWS_PROFILE, SSO, web identity,
// container and instance roles), whose credentials it retrieves at once so
// that missing ones are reported clearly before any request. It never
// prints the config or the credentials; the secrets it learns are added to
// red.
func connect(ctx context.Context, g globals, red *redactor) (*client, error) {
	c := &client{endpoint: g.endpoint}
	var cfg aws.Config
	if g.endpoint != "" && g.profile == "" {
		cfg = aws.Config{
			Region:      g.region,
			Credentials: credentials.NewStaticCredentialsProvider("ddbocc", "ddbocc-local", ""),
		}
		if cfg.Region == "" {
			cfg.Region = os.Getenv("AWS_REGION")
		}
	} else {
		var opts []func(*config.LoadOptions) error
		if g.region != "" {
			opts = append(opts, config.WithRegion(g.region))
		}
		if g.profile != "" {
			opts = append(opts, config.WithSharedConfigProfile(g.profile))
		}
		var err error
		cfg, err = config.LoadDefaultConfig(ctx, opts...)
		var pe config.SharedConfigProfileNotExistError
		switch {
		case errors.As(err, &pe):
			return nil, fmt.Errorf("AWS profile %q not found in the shared config files (~/.aws/config, ~/.aws/credentials, or AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE)", pe.Profile)
		case err != nil:
			return nil, fmt.Errorf("loading the AWS configuration: %w", err)
		}
	}
	if cfg.Region == "" && g.endpoint != "" {
		cfg.Region = localRegion
	}
	if cfg.Region == "" {
		return nil, errors.New("no AWS region: pass --region, set AWS_REGION, or set region in the profile (--profile or AWS_PROFILE)")
	}
	c.region = cfg.Region
	if cfg.Credentials == nil {
		//lint:ignore ST1005 a CLI message of several lines, printed as is
		return nil, errors.New(noCredentials)
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("getting AWS credentials: %w", err)
		}
		return nil, fmt.Errorf("%s\ncause: %w", noCredentials, err)
	}
	if g.endpoint == "" || g.profile != "" { // not the dummy ones
		red.add(creds.SecretAccessKey, creds.SessionToken)
	}
	c.ddb = dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		if g.endpoint != "" {
			o.BaseEndpoint = aws.String(g.endpoint)
			// DynamoDB Local's error responses fail the CRC32 check.
			o.DisableValidateResponseChecksum = true
		}
	})
	return c, nil
}

const noCredentials = `no AWS credentials found. Provide them with one of:
  - AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) in the environment;
  - --profile NAME (or AWS_PROFILE): a profile of ~/.aws/config or ~/.aws/credentials
    (for SSO, run "aws sso login --profile NAME" first);
  - a role of the container or instance this runs on;
  - for DynamoDB Local, --endpoint URL (dummy credentials are used then).`

// where says where the client points, for messages.
func (c *client) where() string {
	if c.endpoint != "" {
		return "at endpoint " + c.endpoint
	}
	return "in region " + c.region
}

// tableErr turns the error of a request on table into a clear one if the
// table does not exist; other errors are returned as they are.
func (c *client) tableErr(table string, err error) error {
	var nf *types.ResourceNotFoundException
	if errors.Is(err, repo.ErrTableNotFound) || errors.As(err, &nf) {
		return fmt.Errorf("table %s not found %s", table, c.where())
	}
	return err
}
