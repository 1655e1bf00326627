"""What CI needs: which images a change reaches, the stage jobs, the linters."""
