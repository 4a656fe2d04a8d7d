"""The release driver and the offline tools around the Pulumi program."""
