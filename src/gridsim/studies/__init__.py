"""Many runs: sweeps, optimisation, sensitivity, calibration, placement, regression, studies."""
