"""A stand-in for the AWS environment, used only when the stack's plan has none yet."""
