"""The public API is pinned: a change to any ``__all__`` below must be deliberate (edit this list).

Every public module lists its API in ``__all__`` and shows exactly that in ``dir()``. The old import
paths of moved modules keep working.
"""

from __future__ import annotations

import importlib

import pytest

PUBLIC_API: dict[str, list[str]] = {
    "zprime_atlas": [
        "Mixing",
        "Model",
        "ScanResult",
        "__version__",
        "alpha_r",
        "constants",
        "constraints",
        "couplings",
        "decays",
        "effective_couplings",
        "enumerate_models",
        "gm2",
        "kinetic_mixing",
        "load",
        "loop_mixing_over_g",
        "model",
        "model_names",
        "models",
        "scan",
    ],
    "zprime_atlas.constants": [
        "ALPHA_EM",
        "ALPHA_S_MZ",
        "AVOGADRO",
        "CHARGED_FERMIONS",
        "CHARGED_LEPTONS",
        "COLOURS",
        "ELECTRIC_CHARGE",
        "E_CHARGE",
        "FERMIONS",
        "FERMION_MASS",
        "G_FERMI",
        "HBARC_GEV_CM",
        "HBARC_GEV_FM",
        "HBAR_GEV_S",
        "HIGGS_VEV",
        "LEPTONS",
        "M_B_POLE",
        "M_C_POLE",
        "M_E",
        "M_ETA",
        "M_ETA_PRIME",
        "M_MU",
        "M_OMEGA",
        "M_PHI",
        "M_PI0",
        "M_PI_CHARGED",
        "M_RHO",
        "M_TAU",
        "M_Z",
        "NEUTRINOS",
        "NEUTRINO_OF",
        "PARTICLE_VERSION",
        "QUARKS",
        "SIN2_THETA_W_LOW",
        "WIDTH_OMEGA",
        "WIDTH_PHI",
        "WIDTH_RHO",
        "Y_N_EARTH",
    ],
    "zprime_atlas.couplings": [
        "Mixing",
        "effective_couplings",
        "kinetic_mixing",
        "loop_function",
        "loop_mixing_over_g",
        "loop_sum",
    ],
    "zprime_atlas.decays": [
        "CHANNELS",
        "HADRONIC_STATES",
        "M_JOIN",
        "alpha_s",
        "branching_ratios",
        "hadronic_widths",
        "lifetime",
        "total_from_widths",
        "total_width",
        "vmd_curve",
        "widths",
        "widths_from_couplings",
    ],
    "zprime_atlas.gm2": [
        "DATASETS",
        "ELECTRON_DATASETS",
        "GM2Dataset",
        "band",
        "contribution",
        "dataset",
        "delta_a",
        "loop_integral",
    ],
    "zprime_atlas.models": [
        "GENERATORS",
        "Model",
        "alpha_r",
        "enumerate_models",
        "generator_label",
        "model",
        "model_names",
        "parse_generators",
    ],
    "zprime_atlas.nuclear": ["helm_form_factor"],
    "zprime_atlas.constraints": [
        "Constraint",
        "ConstraintInfo",
        "all",
        "get",
        "limit_mixing",
        "names",
        "origin",
        "register",
        "reload",
    ],
    "zprime_atlas.constraints.base": [
        "CompiledRatio",
        "Constraint",
        "ConstraintInfo",
        "G2Form",
        "G_SCAN_GRID",
        "LifetimeForm",
        "PointForm",
        "bisect_log",
        "intervals_by_scan",
        "limit_mixing",
    ],
    "zprime_atlas.constraints.solve": [
        "G_SCAN_GRID",
        "bisect_log",
        "delta_chi2_critical",
        "golden_minimize_log",
        "intervals_by_scan",
        "polynomial_exclusion_intervals",
        "polynomial_roots",
        "quadratic_exclusion_intervals",
        "quadratic_roots",
        "trim_intervals",
    ],
    "zprime_atlas.constraints.registry": [
        "ENTRY_POINT_GROUP",
        "all",
        "get",
        "names",
        "origin",
        "register",
        "reload",
    ],
    "zprime_atlas.constraints.borexino": [
        "BE7_LINES",
        "BOREXINO_BE7_RATE",
        "Borexino",
        "FLAVOURS",
        "OscillationParameters",
        "SSM_BE7",
        "dsigma_dT",
        "flavour_fractions",
        "sm_couplings",
        "sm_rate_cpd",
        "survival_probability",
        "t_max",
        "total_cross_section",
    ],
    "zprime_atlas.constraints.coherent": [
        "CEvNSSingleBin",
        "CS133",
        "CoherentCsI2017",
        "I127",
        "Nucleus",
        "PROMPT_ENERGY",
        "SingleBinStatistics",
        "helm_form_factor",
        "michel_spectrum",
        "recoil_factor",
    ],
    "zprime_atlas.constraints.electron_gm2": ["ElectronGM2"],
    "zprime_atlas.constraints.trident": [
        "CCFR",
        "CCFRTrident",
        "CHARM2",
        "CHARM2Trident",
        "TridentConstraint",
        "TridentExperiment",
        "helm_form_factor",
        "nu_gamma_dsigma_dq2",
        "photon_flux",
        "q2_distribution",
        "sm_couplings",
        "write_table",
    ],
    "zprime_atlas.constraints.trident.constraint": ["CCFRTrident", "CHARM2Trident", "TridentConstraint"],
    "zprime_atlas.constraints.trident.experiments": ["CCFR", "CHARM2", "TridentExperiment"],
    "zprime_atlas.constraints.trident.matrix_element": ["nu_gamma_dsigma_dq2", "sm_couplings"],
    "zprime_atlas.constraints.trident.tables": [
        "TABLE_FOLDER",
        "load_table",
        "photon_flux",
        "q2_distribution",
        "write_table",
    ],
    "zprime_atlas.constraints.trident.generate": ["main"],
    "zprime_atlas.constraints.recast": [
        "ENV_VAR",
        "Lifetime",
        "LimitData",
        "ProductionFractions",
        "RecastConstraint",
        "RecastFileError",
        "RecastMetadata",
        "acceptance",
        "discover_recasts",
        "load_recast",
        "parse_metadata",
        "read_fractions_csv",
        "read_limit_csv",
        "recast_dirs",
        "shared_evaluation",
    ],
    "zprime_atlas.constraints.recast.darkcast": ["RecastConstraint", "acceptance", "closed_form",
                                                 "lifetime_ratio", "shared_evaluation"],
    "zprime_atlas.constraints.recast.discovery": [
        "ENV_VAR",
        "discover_recasts",
        "load_recast",
        "recast_dirs",
    ],
    "zprime_atlas.constraints.recast.production": [
        "GENERATORS",
        "MECHANISMS",
        "production_factor",
        "production_factors",
    ],
    "zprime_atlas.constraints.recast.schema": [
        "FORMAT_VERSION",
        "Field",
        "INVISIBLE",
        "Lifetime",
        "RecastFileError",
        "RecastMetadata",
        "SCHEMAS",
        "VISIBLE_CHANNELS",
        "parse_metadata",
        "schema_table",
    ],
    "zprime_atlas.constraints.recast.tables": [
        "LimitData",
        "ProductionFractions",
        "RValueTable",
        "read_fractions_csv",
        "read_limit_csv",
        "read_rvalue_csv",
        "sha256",
    ],
    "zprime_atlas.engine": [
        "ScanPlan", "ScanResult", "band_couplings", "default_xi", "execute", "load", "plan_scan",
        "scan", "survey",
    ],
    "zprime_atlas.store": [
        "FORMAT_NAME", "FORMAT_VERSION", "ScanLayout", "ScanWriteError", "ScanWriter", "StoreError",
        "open_for_read", "partial_path", "progress", "read_scan", "scan_attributes",
    ],
    "zprime_atlas.result": ["ScanResult", "band_couplings", "load"],
    "zprime_atlas.export": ["excluded_intervals_table", "to_csv"],
    "zprime_atlas.references": ["bibtex", "for_constraints", "package_entry"],
    "zprime_atlas.catalogue": [
        "CatalogueRow", "KINDS", "SLOW_FOR_GRIDS", "choose", "default_names", "describe",
        "extra_recast_folders", "select",
    ],
    "zprime_atlas.solar": [
        "FLUXES", "SolarModel", "potential_cc", "production_points", "standard_solar_model",
        "survival_probability",
    ],
    "zprime_atlas.constraints.nsi": [
        "AtmosphericBound", "NSIInputs", "NSIOscillation", "SolarChi2", "earth_nsi", "load_inputs",
        "model_direction",
    ],
}


@pytest.mark.parametrize("name", sorted(PUBLIC_API))
def test_public_api_is_pinned(name: str) -> None:
    module = importlib.import_module(name)
    assert sorted(module.__all__) == PUBLIC_API[name]
    assert len(set(module.__all__)) == len(module.__all__)
    for attribute in module.__all__:
        assert hasattr(module, attribute), f"{name}.{attribute} is listed but missing"


@pytest.mark.parametrize("name", sorted(PUBLIC_API))
def test_dir_shows_the_public_api(name: str) -> None:
    module = importlib.import_module(name)
    assert dir(module) == sorted(module.__all__)


def test_old_import_paths_still_work() -> None:
    from zprime_atlas import production, recast
    from zprime_atlas.constraints import base
    from zprime_atlas.constraints import recast as new_recast
    from zprime_atlas.constraints.base import Constraint, ConstraintInfo, limit_mixing
    from zprime_atlas.constraints.recast import production as new_production
    from zprime_atlas.couplings import Mixing

    for attribute in new_recast.__all__:
        assert getattr(recast, attribute) is getattr(new_recast, attribute)
    for attribute in new_production.__all__:
        assert getattr(production, attribute) is getattr(new_production, attribute)
    assert recast.shared_evaluation is new_recast.shared_evaluation  # used by the engine
    assert callable(base.intervals_by_scan)
    assert callable(base.bisect_log)
    assert all(x is not None for x in (Constraint, ConstraintInfo, limit_mixing, Mixing))
