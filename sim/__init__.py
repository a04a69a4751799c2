"""A simulated clinic month: hundreds of synthetic patients driven through the API of the demo-profile stack
with random behaviour, watched for a pathway that neither moves on nor is flagged past its deadline
(`python -m sim`; README "A simulated clinic month")."""
