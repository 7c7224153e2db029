{# A synaptic rule over all-to-all blocks (brian_effplast.blocks.dense): the synapse
   (_q, _j, _i) of block _q, presynaptic unit _j, postsynaptic unit _i is
   (_q*n_pre + _j)*n_post + _i; its indices are computed, not read from arrays.
   With shared > 1 (a rule that writes no synaptic variable) every group of
   `shared` consecutive blocks reads the synaptic variables of its first block:
   _idx is that block's synapse. #}
{# USES_VARIABLES { N } #}
{# ALLOWS_SCALAR_WRITE #}
{% extends 'common_group.cpp' %}

{% block maincode %}
    //// MAIN CODE ////////////
    // scalar code
    const size_t _vectorisation_idx = -1;
    {{scalar_code|autoindent}}

    const int _N = {{constant_or_scalar('N', variables['N'])}};
    const int _blocks = {{blocks}}, _n_pre = {{n_pre}}, _n_post = {{n_post}}, _shared = {{shared}};
    if (_N != _blocks*_n_pre*_n_post)
    {
        std::cerr << "{{owner.name}}: " << _N << " synapses, the dense layout needs "
                  << _blocks*_n_pre*_n_post << std::endl;
        exit(1);
    }
    for(int _q=0; _q<_blocks; _q++)
    for(int _j=0; _j<_n_pre; _j++)
    {
        #pragma GCC ivdep
        for(int _i=0; _i<_n_post; _i++)
        {
            // vector code
            const size_t _idx = ((size_t)((_q - _q % _shared)*_n_pre + _j))*_n_post + _i;
            const size_t _vectorisation_idx = ((size_t)(_q*_n_pre + _j))*_n_post + _i;
            {% for line in (vector_code if vector_code is string else vector_code|join('\n')).split('\n') %}
            {% set words = line.split() %}
            {% if words|length > 2 and words[0] == 'const' and words[1] == 'int32_t' and words[2] in computed %}
            const int32_t {{words[2]}} = {{computed[words[2]]}};
            {% else %}
            {{line}}
            {% endif %}
            {% endfor %}
        }
    }
{% endblock %}
